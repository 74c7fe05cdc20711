"""New versions of an article: what happens to its annotations, and a line saying what changed.

The same plan serves the owner's review before saving (a dry run: nothing is written) and
the save itself, so what the owner was shown is what happens.
"""

from __future__ import annotations

import difflib
import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import sqlalchemy as sa
from diff_match_patch import diff_match_patch
from sqlalchemy.orm import Session

from webapp.models import Annotation, Document, DocumentVersion
from webapp.text.anchoring import Anchor, anchor_at, reanchor
from webapp.text.document import BLOCK_SEPARATOR

KEPT, MOVED, ORPHANED, REATTACHED, STILL_ORPHANED = (
    "kept",
    "moved",
    "orphaned",
    "reattached",
    "still_orphaned",
)


@dataclass(frozen=True)
class Outcome:
    annotation: Annotation
    result: str  # one of KEPT, MOVED, ORPHANED, REATTACHED, STILL_ORPHANED
    anchor: Anchor | None  # where it goes in the new text (None: an orphan)


@dataclass
class ReanchorPlan:
    outcomes: list[Outcome] = field(default_factory=list)

    def of(self, result: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.result == result]

    def count(self, result: str) -> int:
        return sum(1 for o in self.outcomes if o.result == result)

    @property
    def moved_or_kept(self) -> int:
        return self.count(KEPT) + self.count(MOVED) + self.count(REATTACHED)

    @property
    def orphaned(self) -> int:
        return self.count(ORPHANED) + self.count(STILL_ORPHANED)


def _current(annotation: Annotation) -> Anchor:
    return Anchor(
        annotation.start, annotation.end, annotation.exact, annotation.prefix, annotation.suffix
    )


def _original(annotation: Annotation) -> Anchor:
    """The quote it was made on, looked for near where it last was."""
    exact = annotation.original_exact or annotation.exact
    return Anchor(
        annotation.start,
        annotation.start + len(exact),
        exact,
        annotation.original_prefix or "",
        annotation.original_suffix or "",
    )


class PositionMap:
    """Where each position of an old text is in a new one, from one diff of the two texts
    (diff-match-patch): a moved passage is found by arithmetic, not by searching."""

    def __init__(self, old: str, new: str):
        matcher = diff_match_patch()
        matcher.Diff_Timeout = 2.0
        self.new_length = len(new)
        self.starts: list[int] = []  # old position where each piece begins
        self.pieces: list[tuple[int, int, int, bool]] = []  # old start, old end, new, kept
        old_at = new_at = 0
        for op, data in matcher.diff_main(old, new, checklines=True):
            if op == diff_match_patch.DIFF_INSERT:
                new_at += len(data)
                continue
            kept = op == diff_match_patch.DIFF_EQUAL
            self.starts.append(old_at)
            self.pieces.append((old_at, old_at + len(data), new_at, kept))
            old_at += len(data)
            if kept:
                new_at += len(data)

    def at(self, position: int) -> int:
        """The new position of an old one (where it was, for deleted text)."""
        index = bisect_right(self.starts, position) - 1
        if index < 0 or position >= self.pieces[index][1]:
            return self.new_length
        start, _, new, kept = self.pieces[index]
        return new + (position - start) if kept else new

    def kept(self, start: int, end: int) -> int:
        """How many characters of old[start:end] are still in the new text."""
        total = 0
        index = max(bisect_right(self.starts, start) - 1, 0)
        for piece_start, piece_end, _, kept in self.pieces[index:]:
            if piece_start >= end:
                break
            if kept:
                total += max(0, min(end, piece_end) - max(start, piece_start))
        return total


def _mapped(current: Anchor, positions: PositionMap, new_text: str) -> tuple[Anchor | None, Anchor]:
    """(the anchor where the diff puts the quote, if the quote is there or mostly
    survived there; the current anchor moved to where the diff puts it, as a hint)."""
    start = positions.at(current.start)
    hint = replace(current, start=start, end=start + len(current.exact))
    if new_text[hint.start : hint.end] == current.exact:
        return anchor_at(new_text, hint.start, hint.end), hint
    end = positions.at(current.end - 1) + 1  # the last character: text added after is not in it
    kept = positions.kept(current.start, current.end)
    # Mostly the same characters, not swollen by a long insertion inside it.
    grown = end - start <= 2 * len(current.exact) + 40
    if end > start and grown and kept >= 0.6 * len(current.exact):
        if current.exact not in new_text:  # a copy elsewhere: reanchor weighs the two
            return anchor_at(new_text, start, end), hint
    return None, hint


def plan_reanchor(
    annotations: Iterable[Annotation], new_text: str, old_texts: dict[int, str] | None = None
) -> ReanchorPlan:
    """Where each annotation goes in `new_text`; changes nothing.

    An anchored annotation is looked for where a diff of its version's text
    (`old_texts`, by version id) and the new one puts it, then by its current quote
    (webapp/text/anchoring.py reanchor, from that spot), then by the quote it was made on;
    an orphan by the quote it was made on, so it comes back when a later version brings
    its text back.
    """
    plan = ReanchorPlan()
    maps: dict[int, PositionMap] = {}
    for annotation in annotations:
        if annotation.is_orphan:
            found = reanchor(_original(annotation), new_text)
            result = REATTACHED if found is not None else STILL_ORPHANED
        else:
            current = _current(annotation)
            found, hint = None, current
            old_text = (old_texts or {}).get(annotation.version_id)
            if old_text is not None:
                if annotation.version_id not in maps:
                    maps[annotation.version_id] = PositionMap(old_text, new_text)
                positions = maps[annotation.version_id]
                found, hint = _mapped(current, positions, new_text)
                if found is None and positions.kept(current.start, current.end) == 0:
                    # Deleted, says the diff: only an exact copy elsewhere can hold it.
                    hint = replace(hint, prefix="", suffix="")
            if found is None:
                found = reanchor(hint, new_text)
            if found is None and annotation.original_exact not in ("", annotation.exact):
                found = reanchor(_original(annotation), new_text)
            if found is None:
                result = ORPHANED
            elif (found.start, found.end) == (current.start, current.end):
                result = KEPT
            else:
                result = MOVED
        plan.outcomes.append(Outcome(annotation, result, found))
    return plan


def texts_of(session: Session, annotations: Iterable[Annotation]) -> dict[int, str]:
    """The canonical texts of the versions these annotations are anchored in."""
    ids = {a.version_id for a in annotations if a.version_id is not None}
    if not ids:
        return {}
    rows = session.execute(
        sa.select(DocumentVersion.id, DocumentVersion.text).where(DocumentVersion.id.in_(ids))
    )
    return {version_id: text for version_id, text in rows}


def annotations_of(session: Session, document: Document) -> list[Annotation]:
    """Every annotation on the document, deleted ones too (an undo brings them back)."""
    return list(
        session.scalars(
            sa.select(Annotation)
            .where(Annotation.document_id == document.id)
            .order_by(Annotation.version_id.is_(None), Annotation.start, Annotation.id)
        )
    )


def apply_plan(plan: ReanchorPlan, version: DocumentVersion) -> None:
    for outcome in plan.outcomes:
        annotation, anchor = outcome.annotation, outcome.anchor
        if anchor is None:
            annotation.version_id = None
            continue
        annotation.version_id = version.id
        annotation.start, annotation.end = anchor.start, anchor.end
        annotation.exact, annotation.prefix, annotation.suffix = (
            anchor.exact,
            anchor.prefix,
            anchor.suffix,
        )


def reanchor_document(
    session: Session, document: Document, version: DocumentVersion
) -> tuple[int, int]:
    """Move every annotation of the document to `version` (or make it an orphan); orphans
    whose quote is back re-attach. Returns (anchored, orphaned)."""
    annotations = [a for a in annotations_of(session, document) if a.version_id != version.id]
    plan = plan_reanchor(annotations, version.text, texts_of(session, annotations))
    apply_plan(plan, version)
    return plan.moved_or_kept, plan.orphaned


# --- what changed, in a line ------------------------------------------------------------------

_WORD = re.compile(r"\w+", re.UNICODE)


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split(BLOCK_SEPARATOR) if p.strip()]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summarize_change(old: DocumentVersion | None, new: DocumentVersion, how: str) -> str:
    """ "Edited in the browser: 2 paragraphs changed, 1 added; +40/-12 words; title changed"."""
    if old is None:
        return how
    details = []
    before, after = _paragraphs(old.text), _paragraphs(new.text)
    changed = added = removed = 0
    words_in = words_out = 0
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            continue
        old_words = _WORD.findall(" ".join(before[a1:a2]))
        new_words = _WORD.findall(" ".join(after[b1:b2]))
        words = difflib.SequenceMatcher(a=old_words, b=new_words, autojunk=False)
        same = sum(block.size for block in words.get_matching_blocks())
        words_out += len(old_words) - same
        words_in += len(new_words) - same
        common = min(a2 - a1, b2 - b1)
        changed += common
        added += (b2 - b1) - common
        removed += (a2 - a1) - common
    parts = []
    if changed:
        parts.append(_plural(changed, "paragraph") + " changed")
    if added:
        parts.append(f"{added} added")
    if removed:
        parts.append(f"{removed} removed")
    if parts:
        details.append(", ".join(parts))
    if words_in or words_out:
        details.append(f"+{words_in}/-{words_out} words")
    if old.title != new.title:
        details.append("title changed")
    metadata = ("byline", "published_text", "source_url")
    if any(getattr(old, name) != getattr(new, name) for name in metadata):
        details.append("details changed")
    if not details:
        details.append("no change to the text")
    return f"{how}: {'; '.join(details)}"[:500]
