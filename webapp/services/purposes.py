"""What each highlight colour means: a name and a purpose readers see (in the toolbar, on
cards, in the legend, in print), and an underline style so purposes differ without colour.

Each class may rename the purposes (its instructors do, on the class page); elsewhere the
defaults hold. Labels are plain text: normalised, without control characters, one line,
length-limited, and escaped wherever they are shown.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from webapp.models import Classroom
from webapp.services.annotations import COLOURS
from webapp.text.sanitize import drop_control_characters

DEFAULT_PURPOSES = {
    "yellow": "Important",
    "green": "Evidence",
    "blue": "Question",
    "pink": "Disagree",
    "purple": "Definition",
}
# The cue that does not rely on colour: one underline style per colour (as CSS names it).
UNDERLINES = {
    "yellow": "solid",
    "green": "double",
    "blue": "wavy",
    "pink": "dashed",
    "purple": "dotted",
}
MAX_LABEL_CHARS = 24
FIELD = "purpose-{}"  # the class page's form field of each colour


class PurposeError(ValueError):
    """Labels an instructor can fix; the message says how."""


@dataclass(frozen=True)
class Purpose:
    colour: str
    label: str
    underline: str

    @property
    def name(self) -> str:
        """The colour's name, as a reader sees it (Yellow)."""
        return self.colour.capitalize()

    @property
    def is_default(self) -> bool:
        return self.label == DEFAULT_PURPOSES[self.colour]


def purposes_of(classroom: Classroom | None) -> list[Purpose]:
    """Every colour with its purpose in this class (the defaults outside a class), in the
    toolbar's order."""
    custom = (classroom.colour_purposes if classroom is not None else None) or {}
    out = []
    for colour in COLOURS:
        label = custom.get(colour) if isinstance(custom.get(colour), str) else None
        out.append(Purpose(colour, label or DEFAULT_PURPOSES[colour], UNDERLINES[colour]))
    return out


def clean_label(text: str | None, colour: str) -> str:
    """One label as it is stored: NFC, no control characters, spaces collapsed; empty
    means the default. Too long is an error (nothing is cut without saying so)."""
    text = unicodedata.normalize("NFC", drop_control_characters(text or ""))
    text = " ".join(text.split())
    if not text:
        return DEFAULT_PURPOSES[colour]
    if len(text) > MAX_LABEL_CHARS:
        raise PurposeError(
            f"The purpose of {colour} is {len(text)} characters long; "
            f"the limit is {MAX_LABEL_CHARS}."
        )
    return text


def parse_purposes(form: Mapping[str, str]) -> dict[str, str]:
    """The labels of the class page's form, one per colour (a missing field keeps the
    default); two colours may not share one purpose."""
    labels = {colour: clean_label(form.get(FIELD.format(colour)), colour) for colour in COLOURS}
    seen: dict[str, str] = {}
    for colour, label in labels.items():
        key = label.casefold()
        if key in seen:
            raise PurposeError(
                f"{seen[key].capitalize()} and {colour} both mean {label!r}: "
                "give each colour its own purpose."
            )
        seen[key] = colour
    return labels


def set_purposes(session: Session, classroom: Classroom, labels: Mapping[str, str]) -> None:
    """Store the class's labels (only those that differ from the defaults)."""
    custom = {
        c: labels[c] for c in COLOURS if labels.get(c, DEFAULT_PURPOSES[c]) != DEFAULT_PURPOSES[c]
    }
    classroom.colour_purposes = custom or None
    session.flush()
