"""What each highlight colour means: the defaults, one underline style per colour, and
labels cleaned and limited before they are stored."""

from __future__ import annotations

import pytest

from webapp.models import Classroom
from webapp.services import purposes as service
from webapp.services.annotations import COLOURS


def test_every_colour_has_a_default_purpose_and_its_own_underline():
    defaults = service.purposes_of(None)
    assert [p.colour for p in defaults] == list(COLOURS)
    labels = {p.colour: p.label for p in defaults}
    assert labels["yellow"] == "Important"
    assert labels["blue"] == "Question"
    assert labels["green"] == "Evidence"
    assert labels["pink"] == "Disagree"
    underlines = [p.underline for p in defaults]
    assert sorted(underlines) == sorted({"solid", "dashed", "dotted", "double", "wavy"})


def test_labels_are_cleaned_and_limited():
    assert service.clean_label("  Main \t\n claim\x00 ", "yellow") == "Main claim"
    assert service.clean_label("", "blue") == "Question"  # empty: the default
    assert service.clean_label("e\u0301", "pink") == "\u00e9"  # NFC
    with pytest.raises(service.PurposeError, match="limit is 24"):
        service.clean_label("x" * 25, "green")
    with pytest.raises(service.PurposeError, match="own purpose"):
        service.parse_purposes({"purpose-yellow": "Same", "purpose-blue": "same"})


def test_a_class_names_only_what_it_changed():
    classroom = Classroom(name="c", join_code="X", colour_purposes={"blue": "Source?", "red": "x"})
    labels = {p.colour: p.label for p in service.purposes_of(classroom)}
    assert labels == {**service.DEFAULT_PURPOSES, "blue": "Source?"}
    assert [p.is_default for p in service.purposes_of(classroom)] == [c != "blue" for c in COLOURS]
