"""A class's kept view brought up to date in place (a process serving one request at a
time) is the view a copy would be, and the view read afresh; a copy leaves the older view
as it was (another request may be drawing from it)."""

from __future__ import annotations

import copy
import random

import pytest

from webapp.reader.shared import ClassView, StudentView
from webapp.text.document import build_layout
from webapp.text.marks import coverage, render_block

TEXT = "".join("<p>" + " ".join(f"w{p}x{n}" for n in range(60)) + "</p>" for p in range(3))
VERSION = 7


def derived(view: ClassView) -> tuple:
    """What a view's pages are drawn from (in an order its history does not change)."""
    ids_by_author = {
        author: sorted(view.highlights[k].id for k in indices)
        for author, indices in view.by_author.items()
        if indices
    }
    return (
        sorted(view.rows),
        view.authors,
        sorted(view.highlights),
        ids_by_author,
        sorted(view.orphans),
        view.listed,
        view.seq,
    )


def exactly(view: ClassView) -> tuple:
    """Everything a view holds, its kept parts over blocks included (by block id)."""
    return (
        view.rows,
        view.highlights,
        view.by_author,
        view.orphans,
        view.listed,
        view.seq,
        view.authors,
        view.cards,
        view.own_cards,
        {key: over for key, (_, over) in view._over.items()},
        {key: (points, counts) for key, (_, points, counts) in view._coverage.items()},
        {key: by_author for key, (_, by_author) in view._own_over.items()},
    )


def random_changes(rng: random.Random, rows: dict, layout, next_id: list) -> list:
    """One change-log stretch: new notes, notes moved or recoloured, deleted, orphaned,
    hidden from the class, or handed to another author."""
    changed = []
    end = layout.blocks[-1].end
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        kind = rng.random()
        if kind < 0.55 or not rows:
            i = next_id[0] = next_id[0] + 1
            start = rng.randrange(0, end - 2)
            row = (
                i,
                start,
                rng.randint(start + 1, min(end, start + 40)),
                rng.choice(["yellow", "green"]),
                rng.randrange(1, 6),
                VERSION,
                False,
                rng.random() < 0.1,
            )
            rows[i] = row
            changed.append((row, True))
            continue
        i = rng.choice(list(rows))
        old = rows[i]
        if kind < 0.75:
            start = rng.randrange(0, end - 2)
            new = (
                i,
                start,
                start + rng.randint(1, 30),
                rng.choice(["blue", "yellow"]),
                old[4],
                old[5],
                old[6],
                old[7],
            )
        elif kind < 0.82:
            new = (*old[:4], rng.randrange(1, 6), *old[5:])
        elif kind < 0.88:
            new = (*old[:6], True, old[7])  # deleted
        elif kind < 0.94:
            new = (*old[:5], None, old[6], old[7])  # orphaned
        else:
            del rows[i]
            changed.append((old, False))  # hidden from the class
            continue
        rows[i] = new
        changed.append((new, True))
    # One row per note, as of the stretch's end (as the change log's rows are read).
    return list({row[0]: (row, shown) for row, shown in changed}.values())


@pytest.mark.parametrize("seed", range(6))
def test_a_view_caught_up_in_place_is_the_copy_and_the_fresh_read(seed):
    rng = random.Random(seed)
    layout = build_layout(TEXT)
    rows: dict = {}
    next_id = [0]
    for _ in range(40):
        random_changes(rng, rows, layout, next_id)
    in_place = ClassView(list(rows.values()), VERSION, seq=1)
    copied = ClassView(list(rows.values()), VERSION, seq=1)
    for seq in range(2, 60):
        for view in (in_place, copied):
            for block in layout.blocks:
                view.coverage_over(block)  # kept, then grown or dropped by the changes
                view.own_over(block)
        changed = random_changes(rng, rows, layout, next_id)
        before = copy.deepcopy(exactly(copied))
        older = copied
        in_place = in_place.caught_up(changed, seq, in_place=True)
        copied = copied.caught_up(changed, seq)
        assert exactly(older) == before  # the copy left the older view as it was
        fresh = ClassView(list(rows.values()), VERSION, seq=seq)
        assert exactly(in_place) == exactly(copied)
        assert derived(in_place) == derived(fresh)
        for block, view in ((b, v) for b in layout.blocks for v in (in_place, copied)):
            drawn = [h for h in fresh.marks_over(block) if h.start < h.end]
            assert view.coverage_over(block) == coverage(block, drawn)
            assert sorted(view.marks_over(block)) == sorted(fresh.marks_over(block))
            assert {a: sorted(m) for a, m in view.own_over(block).items() if m} == {
                a: sorted(m) for a, m in fresh.own_over(block).items()
            }
            author = rng.randrange(1, 6)
            student = StudentView(view, [], author)
            expected = render_block(
                block, StudentView(fresh, [], author).marks_over(block), heat=True
            )
            assert student.draw_block(block, ()) == expected


def test_in_place_keeps_the_view_and_drops_its_changed_cards():
    rows = [(i, i * 3, i * 3 + 2, "yellow", 1, VERSION, False, False) for i in range(1, 20)]
    view = ClassView(rows, VERSION, seq=1)
    view.cards = {1: ("a",), 2: ("b",)}
    view.own_cards = {(5, 1): ("c",), (5, 2): ("d",)}
    view.fragments = {("sidebar",): ("e",)}
    changed = [((1, 3, 5, "green", 1, VERSION, False, False), True)]
    caught = view.caught_up(changed, 2, in_place=True)
    assert caught is view and view.seq == 2
    assert view.cards == {2: ("b",)} and view.own_cards == {(5, 2): ("d",)}
    assert view.fragments == {}
    assert view.highlights[0].colour == "green"
