"""Sentence segmentation of one block's text, good enough to give readers sentence spans."""

from __future__ import annotations

import re

# A sentence ends at terminal punctuation (Latin, Arabic, Devanagari), optionally followed
# by closing quotes or brackets, then whitespace. CJK full-width punctuation needs no space
# after it: Chinese and Japanese put none between sentences.
_BOUNDARY = re.compile(
    r"[.!?…؟۔।]+[\"'”’»)\]]*\s+"
    r"|[。！？]+[\"'”’」』）)\]]*\s*"
)
_ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "st", "vs", "etc", "e.g", "i.e", "jr"})
_WORD_WINDOW = 16  # longer than any abbreviation


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
        # The word before the punctuation; a short window keeps long blocks linear.
        before = text[max(0, match.start() - _WORD_WINDOW) : match.start()].split()
        word = before[-1].casefold().rstrip(".") if before else ""
        if word in _ABBREVIATIONS or (word == "no" and following.isdigit()):
            continue  # "Mr. Smith", "No. 5" (but "She said no. Then ...")
        starts.append(end)
    return starts
