"""Sentence segmentation of one block's text, good enough to give readers sentence spans."""

from __future__ import annotations

import re

# A sentence ends at terminal punctuation (Latin, CJK, Arabic, Devanagari), optionally
# followed by closing quotes or brackets, then whitespace.
_BOUNDARY = re.compile(r"[.!?…。！？؟।]+[\"'”’»)\]]*\s+")
_ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "st", "vs", "etc", "e.g", "i.e", "no", "jr"})


def sentence_starts(text: str) -> list[int]:
    """Code-point offsets where sentences begin; always starts with 0 for non-empty text."""
    if not text:
        return []
    starts = [0]
    for match in _BOUNDARY.finditer(text):
        end = match.end()
        if end >= len(text):
            break
        following = text[end]
        if following.islower():
            continue  # "e.g. this" or "U.S. officials said" mid-sentence
        word = text[: match.start()].rsplit(None, 1)[-1] if text[: match.start()].strip() else ""
        if word.casefold().rstrip(".") in _ABBREVIATIONS:
            continue
        starts.append(end)
    return starts
