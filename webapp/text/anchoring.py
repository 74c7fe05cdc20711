"""Where an annotation points: TextPosition + TextQuote selectors, checked and re-anchored."""

from __future__ import annotations

from dataclasses import dataclass

from diff_match_patch import diff_match_patch

CONTEXT_CHARS = 32
MAX_QUOTE_CHARS = 20_000


class AnchorError(ValueError):
    """A selector that does not fit the document text."""


@dataclass(frozen=True)
class Anchor:
    start: int
    end: int
    exact: str
    prefix: str
    suffix: str


def anchor_at(text: str, start: int, end: int) -> Anchor:
    """The anchor for text[start:end], with its quote context."""
    return Anchor(
        start=start,
        end=end,
        exact=text[start:end],
        prefix=text[max(0, start - CONTEXT_CHARS) : start],
        suffix=text[end : end + CONTEXT_CHARS],
    )


def check_selection(text: str, start: int, end: int, exact: str) -> Anchor:
    """Check a client's selection against the canonical text; raise AnchorError with why."""
    if start < 0 or end < 0:
        raise AnchorError("The selection's offsets must not be negative.")
    if start >= end:
        raise AnchorError("The selection is empty: its start must come before its end.")
    if end > len(text):
        raise AnchorError(
            f"The selection ends at {end}, past the end of the article ({len(text)} characters)."
        )
    if end - start > MAX_QUOTE_CHARS:
        raise AnchorError(f"A highlight may cover at most {MAX_QUOTE_CHARS:,} characters.")
    if text[start:end] != exact:
        raise AnchorError(
            "The selected text does not match the article at that position. "
            "The article may have changed: reload the page and select again."
        )
    if not text[start:end].strip():
        raise AnchorError("The selection holds only white space.")
    return anchor_at(text, start, end)


def reanchor(anchor: Anchor, new_text: str) -> Anchor | None:
    """Find an anchor in an edited text; None when it cannot be found (an orphan).

    1. the same position, if the quote is still there;
    2. the exact quote nearest the old position, preferring matching prefix/suffix;
    3. a fuzzy match with diff-match-patch near the old position.
    """
    exact = anchor.exact
    if new_text[anchor.start : anchor.end] == exact:
        return anchor_at(new_text, anchor.start, anchor.end)

    candidates = []
    position = new_text.find(exact)
    while position != -1:
        candidates.append(position)
        position = new_text.find(exact, position + 1)
    if candidates:

        def score(start: int) -> tuple[int, int]:
            context = _common_suffix(new_text[:start], anchor.prefix) + _common_prefix(
                new_text[start + len(exact) :], anchor.suffix
            )
            return (-context, abs(start - anchor.start))

        best = min(candidates, key=score)
        return anchor_at(new_text, best, best + len(exact))

    return _fuzzy(anchor, new_text)


def _fuzzy(anchor: Anchor, new_text: str) -> Anchor | None:
    matcher = diff_match_patch()
    matcher.Match_Threshold = 0.35
    matcher.Match_Distance = 2_000
    exact = anchor.exact
    pattern_limit = matcher.Match_MaxBits
    head = exact[:pattern_limit]
    expected = min(max(anchor.start, 0), len(new_text))
    start = matcher.match_main(new_text, head, expected)
    if start == -1:
        return None
    # Find where the quote ends: match its tail near where it should end.
    tail = exact[-pattern_limit:]
    expected_tail = start + len(exact) - len(tail)
    tail_start = matcher.match_main(new_text, tail, min(max(expected_tail, 0), len(new_text)))
    if tail_start == -1 or tail_start < start:
        end = min(start + len(exact), len(new_text))
    else:
        end = tail_start + len(tail)
    if end <= start:
        return None
    found = new_text[start:end]
    # Reject a match that shares too little with the old quote.
    diffs = matcher.diff_main(exact, found)
    distance = matcher.diff_levenshtein(diffs)
    if distance > max(len(exact), len(found)) * 0.4:
        return None
    return anchor_at(new_text, start, end)


def _common_prefix(a: str, b: str) -> int:
    count = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        count += 1
    return count


def _common_suffix(a: str, b: str) -> int:
    return _common_prefix(a[::-1], b[::-1])
