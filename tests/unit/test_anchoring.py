"""Where an annotation points: selections checked on write, anchors found again after edits."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from webapp.text.anchoring import (
    CONTEXT_CHARS,
    MAX_QUOTE_CHARS,
    Anchor,
    AnchorError,
    anchor_at,
    check_selection,
    reanchor,
)
from webapp.text.document import build_layout
from webapp.text.importer import parse_article
from webapp.text.sanitize import render_article

SEED = Path(__file__).resolve().parents[2] / "seeds" / "000_959b789aad009a97.txt"


def seed_text() -> str:
    return build_layout(render_article(parse_article(SEED.read_text("utf-8")).body_markdown)).text


def occurrences(text: str, phrase: str) -> list[int]:
    found, position = [], text.find(phrase)
    while position != -1:
        found.append(position)
        position = text.find(phrase, position + 1)
    return found


def anchor_on(text: str, phrase: str, occurrence: int = 0) -> Anchor:
    start = occurrences(text, phrase)[occurrence]
    return anchor_at(text, start, start + len(phrase))


# -- anchor_at ------------------------------------------------------------------------------


def test_anchor_at_takes_quote_and_context():
    text = seed_text()
    start = text.index("Hmeimim")
    anchor = anchor_at(text, start, start + len("Hmeimim military base"))
    assert anchor.exact == "Hmeimim military base"
    assert anchor.prefix == text[start - CONTEXT_CHARS : start]
    assert len(anchor.prefix) == len(anchor.suffix) == CONTEXT_CHARS == 32
    assert anchor.prefix.endswith("Russia over the ")
    assert anchor.suffix.startswith(" was signed")


def test_anchor_at_the_edges_of_the_text():
    text = "short text"
    assert anchor_at(text, 0, 5) == Anchor(0, 5, "short", "", " text")
    assert anchor_at(text, 6, 10) == Anchor(6, 10, "text", "short ", "")


# -- check_selection ------------------------------------------------------------------------


def test_a_valid_selection_gives_its_anchor():
    text = seed_text()
    start = text.index("White Helmets volunteers")
    end = start + len("White Helmets volunteers")
    anchor = check_selection(text, start, end, "White Helmets volunteers")
    assert anchor == anchor_at(text, start, end)


def test_a_selection_across_blocks_is_valid():
    text = seed_text()
    start = text.index("Kremlin.ru")
    end = text.index("Syrian President") + len("Syrian")
    anchor = check_selection(text, start, end, text[start:end])
    assert anchor.exact == "Kremlin.ru\n\nSyrian"


def test_a_selection_with_non_bmp_characters_counts_code_points():
    text = "Party 🎉 and 👏🏽 and 𝔐."
    start = text.index("🎉")
    anchor = check_selection(text, start, start + 9, "🎉 and 👏🏽 ")
    assert anchor.end - anchor.start == 9


@pytest.mark.parametrize(
    ("start", "end", "exact", "message"),
    [
        (-1, 5, "x", "must not be negative"),
        (3, -2, "x", "must not be negative"),
        (5, 5, "", "is empty"),
        (8, 5, "x", "is empty"),
        (0, 10_000, "x", "past the end of the article"),
        (0, 6, "Bashar", None),  # valid: checked below as the control
        (0, 6, "bashar", "does not match the article"),
        (0, 6, "Bashar al-Assad", "does not match the article"),
        (1, 7, "Bashar", "does not match the article"),
        (28, 30, "\n\n", "only white space"),
    ],
)
def test_check_selection_rejects_what_does_not_fit(start, end, exact, message):
    text = seed_text()
    if message is None:
        assert check_selection(text, start, end, exact).exact == exact
        return
    with pytest.raises(AnchorError, match=message) as error:
        check_selection(text, start, end, exact)
    sentence = str(error.value)
    assert sentence[0].isupper() and sentence.endswith("."), sentence


def test_past_the_end_message_gives_the_lengths():
    with pytest.raises(AnchorError) as error:
        check_selection("four", 0, 9, "x")
    assert (
        str(error.value) == "The selection ends at 9, past the end of the article (4 characters)."
    )


def test_whitespace_only_selection_inside_a_paragraph():
    text = "one   two"
    with pytest.raises(AnchorError, match="only white space"):
        check_selection(text, 3, 6, "   ")


def test_selection_too_long():
    text = "a" * (MAX_QUOTE_CHARS + 10)
    with pytest.raises(AnchorError, match="at most 20,000 characters"):
        check_selection(text, 0, MAX_QUOTE_CHARS + 1, text[: MAX_QUOTE_CHARS + 1])
    assert check_selection(text, 0, MAX_QUOTE_CHARS, text[:MAX_QUOTE_CHARS]).end == MAX_QUOTE_CHARS


def test_anchor_error_is_a_value_error():
    assert issubclass(AnchorError, ValueError)


# -- reanchor: exact --------------------------------------------------------------------------


def test_unchanged_text_keeps_the_position():
    text = seed_text()
    anchor = anchor_on(text, "cited Assad as saying", 2)
    assert reanchor(anchor, text) == anchor


def test_edit_after_the_quote_keeps_the_position_and_updates_the_suffix():
    text = seed_text()
    anchor = anchor_on(text, "Hmeimim military base")
    edited = text.replace("signed to last over 40 years", "signed to last for 49 years")
    moved = reanchor(anchor, edited)
    assert (moved.start, moved.end, moved.exact) == (anchor.start, anchor.end, anchor.exact)
    assert moved.suffix == edited[anchor.end : anchor.end + CONTEXT_CHARS]
    assert moved.suffix != anchor.suffix


def test_text_inserted_before_shifts_the_anchor():
    text = seed_text()
    anchor = anchor_on(text, "Hmeimim military base")
    intro = "An editor's note added later.\n\n"
    moved = reanchor(anchor, intro + text)
    assert moved is not None
    assert moved.start == anchor.start + len(intro)
    assert moved.exact == anchor.exact


def test_text_deleted_before_shifts_the_anchor_back():
    text = seed_text()
    anchor = anchor_on(text, "White Helmets volunteers")
    first_block = text.index("\n\n") + 2
    moved = reanchor(anchor, text[first_block:])
    assert moved.start == anchor.start - first_block
    assert moved.exact == "White Helmets volunteers"


def test_repeated_phrase_picks_the_occurrence_with_matching_context():
    text = seed_text()
    phrase = "Interfax news agency cited Assad as saying"
    first, second = occurrences(text, phrase)
    anchor = anchor_on(text, phrase, 1)
    # Insert text so that the *first* occurrence lands a few characters from where the
    # second one was: the nearest match by position (or the first match) is the wrong one.
    padding = "x" * (second - first - 6) + " "
    edited = padding + text
    assert edited[second : second + len(phrase)] != phrase
    wrong, right = first + len(padding), second + len(padding)
    assert abs(wrong - second) < abs(right - second)
    moved = reanchor(anchor, edited)
    assert moved is not None
    assert moved.start == right
    assert moved.prefix == anchor.prefix
    assert moved.suffix == anchor.suffix


def test_repeated_phrase_with_identical_context_picks_the_nearest():
    text = "Intro. " + "Same words here. " * 5
    anchor = anchor_on(text, "Same words", 3)
    edited = text.replace("Intro. ", "Intro: ")  # no shift at all: position still matches
    assert reanchor(anchor, edited).start == anchor.start
    edited = text.replace("Intro. ", "Intro ")  # one character earlier, context identical
    assert reanchor(anchor, edited).start == anchor.start - 1


def test_the_suffix_also_disambiguates():
    text = "the cat sat on the mat. Then the cat sat on the hat."
    anchor = anchor_on(text, "the cat sat", 1)
    edited = "Once " + text.replace("Then the", "Later, the")
    moved = reanchor(anchor, edited)
    assert edited[moved.start : moved.end] == "the cat sat"
    assert edited[moved.end :].startswith(" on the hat")


# -- reanchor: fuzzy ------------------------------------------------------------------------


def test_small_edit_inside_the_quote_is_found_by_fuzzy_match():
    text = seed_text()
    anchor = anchor_on(text, "signed to last over 40 years, indicating that the relationship")
    edited = text.replace("last over 40 years", "last over forty years")
    moved = reanchor(anchor, edited)
    assert moved is not None
    assert moved.exact == "signed to last over forty years, indicating that the relationship"
    assert moved.start == anchor.start


def test_typo_fixed_in_a_long_quote():
    text = seed_text()
    start = text.index("The group, known officially")
    end = text.index("years of bombing attacks") + len("years of bombing attacks")
    anchor = anchor_at(text, start, end)
    edited = text.replace("widely hailed", "widely praised")
    moved = reanchor(anchor, edited)
    assert moved is not None
    assert moved.start == start
    assert moved.exact == edited[start : end + 1]
    assert moved.exact.endswith("years of bombing attacks")


def test_edit_in_the_quote_with_text_inserted_before():
    text = seed_text()
    anchor = anchor_on(text, "Hmeimim military base was signed")
    intro = "Editor's note: updated.\n\n"
    edited = intro + text.replace("Hmeimim military", "Hmeimim air")
    moved = reanchor(anchor, edited)
    assert moved is not None
    assert moved.start == anchor.start + len(intro)
    assert moved.exact == "Hmeimim air base was signed"


def test_edit_that_changes_the_length_of_a_short_quote():
    text = seed_text()
    anchor = anchor_on(text, "Hmeimim military base")
    for replacement in ("Hmeimim air base", "Hmeimim military air base", "Hmeimim militry base"):
        edited = text.replace("Hmeimim military base", replacement)
        moved = reanchor(anchor, edited)
        assert moved is not None, replacement
        assert moved.exact == replacement
        assert moved.start == anchor.start


def test_fuzzy_match_uses_context_for_a_repeated_phrase():
    text = "The cat sat on the mat. The cat sat on the hat. The dog ran away."
    anchor = anchor_on(text, "The cat sat on the hat")
    edited = text.replace("on the hat", "on the cap")
    moved = reanchor(anchor, edited)
    assert moved is not None
    assert moved.start == anchor.start  # not the first sentence, though "mat" is closer
    assert moved.exact == "The cat sat on the cap"


def test_fuzzy_match_at_the_very_start_and_end_of_the_text():
    text = "Opening words of the text. Middle part. Closing words of the text"
    first = anchor_on(text, "Opening words")
    last = anchor_on(text, "Closing words of the text")
    edited = "Opening wordz of the text. Middle part. Closing wordz of the text. Appended."
    assert reanchor(first, edited).exact == "Opening wordz"
    assert reanchor(last, edited).exact == "Closing wordz of the text"


def test_quote_deleted_is_an_orphan():
    text = seed_text()
    anchor = anchor_on(text, "Hmeimim military base was signed to last over 40 years")
    paragraph_start = text.index("He added that Syria's agreement")
    paragraph_end = text.index("The rapid return")
    edited = text[:paragraph_start] + text[paragraph_end:]
    assert reanchor(anchor, edited) is None


def test_short_quote_deleted_is_an_orphan():
    text = seed_text()
    anchor = anchor_on(text, "Hmeimim")
    assert reanchor(anchor, text.replace("the Hmeimim military base", "the base")) is None


def test_quote_rewritten_beyond_recognition_is_an_orphan():
    text = seed_text()
    anchor = anchor_on(text, "rescue workers were a cover for militant groups")
    edited = text.replace(
        "rescue workers were a cover for militant groups", "volunteers deserve a Nobel prize"
    )
    assert reanchor(anchor, edited) is None


def test_empty_new_text_orphans_everything():
    text = seed_text()
    assert reanchor(anchor_on(text, "Hmeimim"), "") is None


def test_reanchored_anchors_always_match_the_new_text():
    text = seed_text()
    edited = text.replace("Interfax", "Interfax agency").replace("Syria", "Syria's")
    for phrase in ("Interfax reported", "cited Assad as saying", "rebel-held areas", "Syria"):
        for number, _ in enumerate(occurrences(text, phrase)):
            moved = reanchor(anchor_on(text, phrase, number), edited)
            if moved is not None:
                assert edited[moved.start : moved.end] == moved.exact
                assert moved == anchor_at(edited, moved.start, moved.end)


def test_long_quote_that_grew_in_the_middle_keeps_both_ends():
    text = seed_text()
    start = text.index("The group, known officially")
    end = text.index("Islamist-led insurgents.") + len("Islamist-led insurgents.")
    anchor = anchor_at(text, start, end)
    added = " (a claim its critics dispute at length, in reports, in interviews and in court)"
    edited = "New intro.\n\n" + text.replace(
        "years of bombing attacks by Damascus", "years of bombing attacks by Damascus" + added
    )
    moved = reanchor(anchor, edited)
    assert moved is not None
    assert moved.exact.startswith("The group, known officially")
    assert moved.exact.endswith("Islamist-led insurgents.")
    assert added in moved.exact


# -- reanchor: properties over random edits -------------------------------------------------


def _random_anchor(rng: random.Random, text: str) -> Anchor:
    while True:
        start = rng.randrange(0, len(text) - 12)
        end = min(len(text), start + rng.randint(8, 80))
        if text[start:end].strip() and text[start].strip() and text[end - 1].strip():
            return anchor_at(text, start, end)


def test_edits_outside_the_quote_shift_it_exactly():
    text = seed_text()
    rng = random.Random(2018)
    for _ in range(200):
        anchor = _random_anchor(rng, text)
        # Insert or delete somewhere outside the quote and its context.
        before = rng.random() < 0.5
        if before and anchor.start > CONTEXT_CHARS + 10:
            at = rng.randrange(0, anchor.start - CONTEXT_CHARS - 5)
        elif len(text) - anchor.end > CONTEXT_CHARS + 10:
            at = rng.randrange(anchor.end + CONTEXT_CHARS + 5, len(text))
        else:
            continue
        if rng.random() < 0.5:
            change = rng.choice(["Inserted words. ", "x", "🎉 𝔐 ", "\n\nA new paragraph."])
            edited, shift = text[:at] + change + text[at:], len(change)
        else:
            size = rng.randint(1, 5)
            edited, shift = text[:at] + text[at + size :], -size
        moved = reanchor(anchor, edited)
        expected = anchor.start + shift if at < anchor.start else anchor.start
        assert moved is not None
        assert (moved.start, moved.exact) == (expected, anchor.exact)


def test_one_character_changed_inside_the_quote_is_found_in_place():
    text = seed_text()
    rng = random.Random(727)
    for _ in range(200):
        anchor = _random_anchor(rng, text)
        if len(anchor.exact) < 12:
            continue
        at = rng.randrange(anchor.start + 1, anchor.end - 1)
        edited = text[:at] + "#" + text[at + 1 :]
        moved = reanchor(anchor, edited)
        assert moved is not None, anchor
        assert (moved.start, moved.end) == (anchor.start, anchor.end), (anchor, moved)
        assert moved.exact == edited[anchor.start : anchor.end]
