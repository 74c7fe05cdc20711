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
    2. the exact quote nearest the old position, preferring matching prefix/suffix, unless
       its context differs and a fuzzy match has more of the old context (the quote was edited
       in place and a copy of it stands elsewhere);
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
        best = min(
            candidates,
            key=lambda start: (
                -_context(anchor, new_text, start, start + len(exact)),
                abs(start - anchor.start),
            ),
        )
        found = anchor_at(new_text, best, best + len(exact))
        context = _context(anchor, new_text, found.start, found.end)
        if context == len(anchor.prefix) + len(anchor.suffix):
            return found
        fuzzy = _fuzzy(anchor, new_text)
        if fuzzy is not None and _context(anchor, new_text, fuzzy.start, fuzzy.end) > context:
            return fuzzy
        return found

    return _fuzzy(anchor, new_text)


def _context(anchor: Anchor, text: str, start: int, end: int) -> int:
    """How many characters of the old prefix and suffix surround text[start:end]."""
    before = text[max(0, start - len(anchor.prefix)) : start]
    after = text[end : end + len(anchor.suffix)]
    return _common_suffix(before, anchor.prefix) + _common_prefix(after, anchor.suffix)


def _fuzzy(anchor: Anchor, new_text: str) -> Anchor | None:
    """Bitap near the old position finds rough spots; small diffs of the old context against
    the new text there fix the quote's two ends; the spot whose context fits best wins."""
    matcher = diff_match_patch()
    matcher.Match_Threshold = 0.35
    matcher.Match_Distance = 2_000
    exact, prefix, suffix = anchor.exact, anchor.prefix, anchor.suffix
    bits = matcher.Match_MaxBits
    half = bits // 2
    # Patterns of at most `bits` characters, each with the offset of the quote's start in it:
    # the quote's head, and the quote's edges with their context (which tells repeats apart).
    probes = [(exact[:bits], 0)]
    if prefix:
        context = prefix[-half:]
        probes.append((context + exact[: bits - len(context)], len(context)))
    if suffix:
        edge = exact[-half:]
        probes.append((edge + suffix[: bits - len(edge)], len(edge) - len(exact)))
    head, tail = exact[:_EDGE], exact[-_EDGE:]
    best: tuple[int, int, int] | None = None  # (context distance, start, end)
    seen = set()
    for pattern, offset in probes:
        found = matcher.match_main(new_text, pattern, _clamp(anchor.start - offset, new_text))
        if found == -1 or found + offset in seen:
            continue
        rough = found + offset
        seen.add(rough)
        # The end: the quote's tail near where it should end (the quote may have grown).
        rough_end = rough + len(exact)
        if len(exact) > bits:
            expected = _clamp(rough_end - bits, new_text)
            tail_found = matcher.match_main(new_text, exact[-bits:], expected)
            if tail_found > rough:
                rough_end = tail_found + bits
        start = _map(matcher, prefix + head, len(prefix), new_text, rough - len(prefix))
        if suffix:
            end = _map(matcher, tail + suffix, len(tail), new_text, rough_end - len(tail))
        else:  # map the last character: text appended after the quote is not part of it
            end = _map(matcher, tail, len(tail) - 1, new_text, rough_end - len(tail)) + 1
        if end <= start:
            continue
        distance = _distance(
            matcher, prefix + head, new_text[max(0, start - len(prefix)) : start + len(head)]
        ) + _distance(matcher, tail + suffix, new_text[max(0, end - len(tail)) : end + len(suffix)])
        if best is None or (distance, abs(start - anchor.start)) < (
            best[0],
            abs(best[1] - anchor.start),
        ):
            best = (distance, start, end)
    if best is None:
        return None
    _, start, end = best
    # Reject a match that shares too little with the old quote.
    found = new_text[start:end]
    if _distance(matcher, exact, found) > max(len(exact), len(found)) * 0.4:
        return None
    return anchor_at(new_text, start, end)


_EDGE = 64  # characters of the quote's edges compared with their new surroundings
_SLACK = 16  # how far a rough bitap position may be off


def _map(matcher, old: str, location: int, new_text: str, expected: int) -> int:
    """Where `location` in `old` (expected at `expected` in the new text) is in the new text."""
    low = _clamp(expected - _SLACK, new_text)
    high = _clamp(expected + len(old) + _SLACK, new_text)
    diffs = matcher.diff_main(old, new_text[low:high], False)
    return low + matcher.diff_xIndex(diffs, location)


def _distance(matcher, old: str, new: str) -> int:
    return matcher.diff_levenshtein(matcher.diff_main(old, new, False))


def _clamp(position: int, text: str) -> int:
    return min(max(position, 0), len(text))


def _common_prefix(a: str, b: str) -> int:
    count = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        count += 1
    return count


def _common_suffix(a: str, b: str) -> int:
    return _common_prefix(a[::-1], b[::-1])
