"""What a new version does to annotations (the plan shown before saving and applied when
saving), and the one-line summary of a change."""

from __future__ import annotations

from webapp.models import Annotation, DocumentVersion
from webapp.services.versions import (
    KEPT,
    MOVED,
    ORPHANED,
    REATTACHED,
    STILL_ORPHANED,
    apply_plan,
    plan_reanchor,
    summarize_change,
)
from webapp.text.anchoring import anchor_at

OLD = (
    "Otters build their dens in quiet rivers.\n\n"
    "Beavers build dams that turn a stream into a pond.\n\n"
    "Kingfishers dive for small fish at dawn."
)


def note(text: str, phrase: str, version_id: int | None = 1, number: int = 1) -> Annotation:
    start = text.index(phrase)
    anchor = anchor_at(text, start, start + len(phrase))
    return Annotation(
        id=number,
        version_id=version_id,
        start=anchor.start,
        end=anchor.end,
        exact=anchor.exact,
        prefix=anchor.prefix,
        suffix=anchor.suffix,
        original_exact=anchor.exact,
        original_prefix=anchor.prefix,
        original_suffix=anchor.suffix,
    )


def results(plan) -> list[str]:
    return [o.result for o in plan.outcomes]


def test_kept_moved_and_orphaned():
    notes = [note(OLD, "quiet rivers"), note(OLD, "build dams"), note(OLD, "small fish")]
    new = OLD.replace("Beavers build dams that turn a stream into a pond.\n\n", "")
    plan = plan_reanchor(notes, new)
    assert results(plan) == [KEPT, ORPHANED, MOVED]
    assert plan.count(KEPT) == 1 and plan.orphaned == 1 and plan.moved_or_kept == 2
    moved = plan.of(MOVED)[0].anchor
    assert new[moved.start : moved.end] == "small fish"


def test_the_plan_changes_nothing_until_applied():
    notes = [note(OLD, "small fish")]
    before = (notes[0].start, notes[0].end, notes[0].version_id)
    new = "A new opening paragraph.\n\n" + OLD
    plan = plan_reanchor(notes, new)
    assert (notes[0].start, notes[0].end, notes[0].version_id) == before
    apply_plan(plan, DocumentVersion(id=2))
    assert notes[0].version_id == 2 and new[notes[0].start : notes[0].end] == "small fish"
    assert notes[0].original_exact == "small fish"


def test_an_orphan_reattaches_by_the_quote_it_was_made_on():
    orphan = note(OLD, "build dams", version_id=None)
    # Since it was made, its current quote drifted; the original one is what comes back.
    orphan.exact, orphan.prefix, orphan.suffix = "build weirs", "", ""
    without = OLD.replace("build dams", "build nothing")
    assert results(plan_reanchor([orphan], without)) == [STILL_ORPHANED]
    plan = plan_reanchor([orphan], OLD)
    assert results(plan) == [REATTACHED]
    apply_plan(plan, DocumentVersion(id=3))
    assert orphan.version_id == 3 and OLD[orphan.start : orphan.end] == "build dams"


def test_an_anchored_note_falls_back_to_its_original_quote():
    moved = note(OLD, "quiet rivers")
    moved.exact = "quiet, slow rivers"  # as a fuzzy re-anchor once left it
    moved.prefix, moved.suffix = "XXXX", "YYYY"
    moved.start, moved.end = 999, 1017
    plan = plan_reanchor([moved], OLD)
    assert results(plan) == [MOVED]
    assert OLD[plan.outcomes[0].anchor.start : plan.outcomes[0].anchor.end] == "quiet rivers"


def version(text: str, title: str = "T", **extra) -> DocumentVersion:
    fields = {"byline": None, "published_text": None, "source_url": None, **extra}
    return DocumentVersion(title=title, text=text, **fields)


def test_summary_counts_paragraphs_and_words():
    new = OLD.replace("small fish", "tiny silver fish") + "\n\nA closing paragraph."
    summary = summarize_change(version(OLD), version(new), "Edited in the browser")
    assert summary == ("Edited in the browser: 1 paragraph changed, 1 added; +5/-1 words")


def test_summary_of_metadata_and_of_nothing():
    assert (
        summarize_change(version(OLD), version(OLD, title="U"), "Edited") == "Edited: title changed"
    )
    assert (
        summarize_change(version(OLD), version(OLD, byline="Someone"), "Edited")
        == "Edited: details changed"
    )
    assert summarize_change(version(OLD), version(OLD), "Edited") == "Edited: no change to the text"
    assert summarize_change(None, version(OLD), "Added") == "Added"


def test_summary_counts_words_in_any_script():
    old = "Кошка спит на окне.\n\nСобака лает."
    new = "Кошка спит на тёплом окне.\n\nСобака лает."
    assert summarize_change(version(old), version(new), "E") == (
        "E: 1 paragraph changed; +1/-0 words"
    )


def test_position_map_follows_insertions_and_deletions():
    from webapp.services.versions import PositionMap

    old = "abc def ghi"
    new = "XX abc ghi!"
    positions = PositionMap(old, new)
    assert positions.at(0) == 3  # "a" after the inserted "XX "
    assert positions.at(8) == new.index("ghi")
    assert positions.at(4) == positions.at(5) == new.index("ghi")  # "def" was deleted
    assert positions.kept(0, 3) == 3 and positions.kept(4, 7) == 0
    assert positions.at(len(old)) == len(new)


def test_with_the_old_text_a_repeated_quote_goes_with_its_own_passage():
    old = "The cat sat.\n\nThe cat ran.\n\nThe cat hid."
    new = "The cat ran.\n\nThe cat sat.\n\nA dog came.\n\nThe cat hid."
    hid = note(old, "cat hid")
    sat = note(old, "The cat sat")
    plan = plan_reanchor([hid, sat], new, {1: old})
    anchors = [o.anchor for o in plan.outcomes]
    assert [new[a.start : a.end] for a in anchors] == ["cat hid", "The cat sat"]


def test_with_the_old_text_an_edited_quote_follows_its_passage():
    notes = [note(OLD, "quiet rivers", number=1), note(OLD, "small fish", number=2)]
    new = "An opening line.\n\n" + OLD.replace("small fish", "small silver fish")
    plan = plan_reanchor(notes, new, {1: OLD})
    assert [new[o.anchor.start : o.anchor.end] for o in plan.outcomes] == [
        "quiet rivers",
        "small silver fish",
    ]
    # A long insertion inside a quote is not swallowed into it.
    padded = OLD.replace("small fish", "small " + "very " * 40 + "fish")
    plan = plan_reanchor([note(OLD, "small fish")], padded, {1: OLD})
    anchor = plan.outcomes[0].anchor
    assert anchor is None or anchor.end - anchor.start < 60
