"""Counting the words of a comment, in any script (the participation report's "words")."""

from __future__ import annotations

import pytest

from webapp.services.participation import count_words


@pytest.mark.parametrize(
    "text, words",
    [
        (None, 0),
        ("", 0),
        ("   \n\t ", 0),
        ("one", 1),
        ("Two words.", 2),
        ("Hello,world", 2),
        ("don't stop", 2),
        ("don\u2019t stop", 2),
        ("a long-term lease", 3),
        ("over 40 years, in 2017", 5),
        ("— ... !!! ***", 0),
        # Markdown syntax is not words; link text is, link targets are not.
        ("**bold** and _it_ and `code`", 5),
        ("# Heading\n\n> quoted line\n\n- item one\n- item two", 7),
        ("see [the source](https://example.com/a/b?c=d) here", 4),
        ("see https://example.com/a/very/long/path?x=1 here", 3),
        ("<https://example.com/a-b-c>", 1),
        ("snake_case word", 3),
        # Arabic, with harakat (combining marks) and tatweel inside words.
        ("قرأ الطلاب مقالاً عن تاريخ الخط", 6),
        ("غنّت نشيداً طويلاً", 3),
        ("كَتَبَ الوَلَدُ", 2),
        ("العربية، والإنجليزية؛ والفرنسية؟", 3),
        # Hebrew with points, Greek, Cyrillic, accents typed as combining marks.
        ("שָׁלוֹם עוֹלָם", 2),
        ("Καλημέρα κόσμε", 2),
        ("Привет, мир", 2),
        ("cafe\u0301 cre\u0300me", 2),
        # Devanagari vowel signs and viramas stay inside their word.
        ("हिन्दी भाषा", 2),
        # Persian: a zero-width non-joiner is inside one word.
        ("می\u200cخواهم بروم", 2),
        # Han and kana: every character counts, Latin around them counts by word.
        ("漢字", 2),
        ("我喜欢读书", 5),
        ("ひらがなカタカナ", 8),
        ("Tokyo 東京 trip", 4),
        # Hangul is written with spaces: words, not syllables.
        ("안녕하세요 세계", 2),
        # Emoji are not words, and do not join words.
        ("great 🎉 point 👏🏽", 2),
        ("word🎉word", 2),
        ("𝔐 is a letter", 4),
    ],
)
def test_count_words(text, words):
    assert count_words(text) == words
