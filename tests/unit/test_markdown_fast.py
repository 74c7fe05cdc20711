"""A one-line comment of words and single emphasised words is drawn without markdown-it
(webapp/text/markdown.py): exactly as markdown-it draws it, for every line it takes, and
every other line still goes to markdown-it."""

from __future__ import annotations

import random

import pytest

from webapp.text.markdown import _PLAIN_LINE, _comment, comment_to_html

WORDS = ["Bench", "note", "7", "why", "does", "this", "passage", "matter", "a", "B2", "x"]
PUNCTUATION = list(",.;:!?'()/-")
# What may break the fast path's reasoning: markdown's other syntax, spacing, non-ASCII.
ODD = list('*_`\\[]<>&~!#|=+"\t\n ') + ["**", "***", "1.", "1)", "- ", "> ", "é", "—", "\u00a0"]


def token(rng: random.Random) -> str:
    word = rng.choice(WORDS)
    kind = rng.random()
    if kind < 0.2:
        return f"*{word}*" + rng.choice(["", "", *PUNCTUATION[:6]])
    if kind < 0.3:
        return f"**{word}**" + rng.choice(["", *PUNCTUATION[:6]])
    if kind < 0.45:
        return word + "".join(rng.choice(PUNCTUATION) for _ in range(rng.randint(1, 2)))
    return word


def line(rng: random.Random) -> str:
    return " ".join(token(rng) for _ in range(rng.randint(1, 12)))


def mutated(rng: random.Random) -> str:
    text = list(line(rng))
    for _ in range(rng.randint(1, 3)):
        text.insert(rng.randint(0, len(text)), rng.choice(ODD + PUNCTUATION + WORDS))
    return "".join(text)


@pytest.mark.parametrize("seed", range(4))
def test_the_lines_it_takes_are_drawn_as_markdown_it_draws_them(seed):
    rng = random.Random(seed)
    taken = 0
    for _ in range(1500):
        text = line(rng) if rng.random() < 0.6 else mutated(rng)
        assert comment_to_html(text) == _comment.render(text), text
        taken += _PLAIN_LINE.fullmatch(text) is not None
    assert taken > 700  # most of the well-formed lines take the fast path


@pytest.mark.parametrize(
    "text",
    [
        "Bench note 7: *why* does this passage matter?",
        "**Strong** and *em*, then (parentheses) and don't.",
        "*Opening* word",
    ],
)
def test_common_comments_take_the_fast_path(text):
    assert _PLAIN_LINE.fullmatch(text)
    assert comment_to_html(text) == _comment.render(text)


@pytest.mark.parametrize(
    "text",
    [
        "1. a list",
        "- a list",
        "* a list",
        "# heading",
        "> quote",
        "a*b*c",
        "*a *b*",
        "**a*",
        "two  spaces",
        "line\nbreak",
        "a & b",
        "a <b>",
        'a "quoted" word',
        "snake_case *x*",
        "~~gone~~",
        "[link](http://x)",
        "`code`",
        "café",
        "---",
        "***",
    ],
)
def test_anything_else_goes_to_markdown_it(text):
    assert not _PLAIN_LINE.fullmatch(text)
    assert comment_to_html(text) == _comment.render(text)
