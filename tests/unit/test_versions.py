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
