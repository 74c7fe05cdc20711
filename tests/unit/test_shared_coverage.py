"""A class's shared view keeps each drawn block's coverage by its marks, and grows it as
notes are added: a block drawn from it is the block drawn from the marks at once."""

from __future__ import annotations

import random

from webapp.reader.shared import ClassView, StudentView
from webapp.text.document import build_layout
from webapp.text.marks import Highlight, coverage, render_block

TEXT = "<p>" + " ".join(f"word{n}" for n in range(80)) + "</p><p>tail of the text</p>"
VERSION = 7


def row(i, start, end, author, colour="yellow", deleted=False):
    return (i, start, end, colour, author, VERSION, deleted, False)


def test_a_caught_up_views_coverage_and_blocks_are_those_of_its_marks():
    layout = build_layout(TEXT)
    block = layout.blocks[0]
    rng = random.Random(5)
    rows = []
    for i in range(1, 120):
        start = rng.randrange(block.start, block.end - 1)
        rows.append(row(i, start, rng.randint(start + 1, block.end + 5), rng.choice([1, 2, 3])))
    view = ClassView(rows[:100], VERSION, seq=1)
    view.coverage_over(block)  # kept, then grown by the notes added after
    for seq, added in enumerate(rows[100:], start=2):
        view = view.caught_up([(added, True)], seq)
    drawn = [h for h in view.marks_over(block) if h.start < h.end]
    assert view.coverage_over(block) == coverage(block, drawn)
    own = [row(500, block.start + 3, block.start + 9, 2, "green")]
    beside = (Highlight(501, block.start + 1, block.end, "blue", True),)
    student = StudentView(view, own, 2)
    expected = render_block(block, [*student.marks_over(block), *beside], heat=True)
    assert student.draw_block(block, beside) == expected
    assert view.coverage_over(block) == coverage(block, drawn)  # (left as it was)
