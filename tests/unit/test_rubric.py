"""The rubric on hand-built facts: what counts, why, the cap, late work, self-votes,
and the form that sets a rubric."""

from __future__ import annotations

from datetime import datetime

import pytest

from webapp.services.rubric import NOTE, REPLY, Fact, Rubric, RubricError, from_form, score

ANN = 7
T = datetime(2026, 12, 1, 10, 0)


def note(id, words, question=False, voters=(), late=False, minute=0):
    return Fact(NOTE, id, words, T.replace(minute=minute), late, question, tuple(voters))


def reply(id, words=3, late=False, minute=0):
    return Fact(REPLY, id, words, T.replace(minute=minute), late)


RUBRIC = Rubric(
    comments_needed=2,
    comment_words=10,
    comment_points=4,
    replies_needed=2,
    reply_points=2,
    questions_needed=1,
    question_points=1,
    upvotes_needed=2,
    upvote_points=3,
    cap=9,
)


def by_criterion(result):
    return {c.name: (c.have, c.needed, c.points) for c in result.criteria}


def test_nothing_done_scores_nothing():
    result = score(RUBRIC, ANN, [])
    assert result.computed == 0
    assert by_criterion(result) == {
        "comments": (0, 2, 0),
        "replies": (0, 2, 0),
        "questions": (0, 1, 0),
        "upvotes": (0, 2, 0),
    }
    assert result.evidence == []


def test_each_criterion_is_met_by_its_count_and_short_comments_do_not_count():
    facts = [
        note(1, 12, minute=1),
        note(2, 9, question=True, minute=2),  # too short for a comment, still a question
        note(3, 10, minute=3),  # exactly enough words
        reply(4, minute=4),
    ]
    result = score(RUBRIC, ANN, facts)
    assert by_criterion(result) == {
        "comments": (2, 2, 4),
        "replies": (1, 2, 0),
        "questions": (1, 1, 1),
        "upvotes": (0, 2, 0),
    }
    assert result.computed == 5 and not result.capped
    why = {(e.fact.kind, e.fact.id): (e.counted_for, e.why) for e in result.evidence}
    assert why[(NOTE, 1)] == (("comments",), "a comment of 12 words")
    assert why[(NOTE, 2)] == (("questions",), "9 words: fewer than 10; a question")
    assert why[(NOTE, 3)] == (("comments",), "a comment of 10 words")
    assert why[(REPLY, 4)] == (("replies",), "a reply")
    # The evidence is listed in the order the work was done.
    assert [e.fact.id for e in result.evidence] == [1, 2, 3, 4]


def test_self_votes_never_count_and_others_add_up_across_notes():
    facts = [note(1, 20, voters=(ANN, 8)), note(2, 20, voters=(ANN,)), note(3, 2, voters=(9,))]
    result = score(RUBRIC, ANN, facts)
    assert by_criterion(result)["upvotes"] == (2, 2, 3)
    why = {e.fact.id: e.why for e in result.evidence}
    assert "1 upvote from others" in why[1]
    assert "upvote" not in why[2]


def test_the_total_is_capped():
    facts = [
        note(1, 20, question=True, voters=(8, 9)),
        note(2, 20),
        reply(3),
        reply(4),
    ]
    result = score(RUBRIC, ANN, facts)
    assert sum(c.points for c in result.criteria) == 10
    assert result.computed == 9 and result.capped
    assert result.line().endswith("(capped)")
    assert RUBRIC.most == 9


def test_late_work_is_listed_but_not_counted_unless_the_rubric_says_so():
    facts = [note(1, 20), note(2, 20, late=True), reply(3, late=True), reply(4)]
    strict = score(RUBRIC, ANN, facts)
    assert by_criterion(strict)["comments"] == (1, 2, 0)
    assert by_criterion(strict)["replies"] == (1, 2, 0)
    late = [e for e in strict.evidence if e.fact.late]
    assert [(e.counted_for, e.why) for e in late] == [
        ((), "after the deadline: not counted"),
        ((), "after the deadline: not counted"),
    ]
    lenient = score(Rubric(**{**RUBRIC.__dict__, "count_late": True}), ANN, facts)
    assert by_criterion(lenient)["comments"] == (2, 2, 4)
    assert by_criterion(lenient)["replies"] == (2, 2, 2)
    assert "late (late work counts)" in next(e.why for e in lenient.evidence if e.fact.id == 2)


def test_a_criterion_that_needs_nothing_gives_its_points():
    rubric = Rubric(questions_needed=0, question_points=2)
    assert by_criterion(score(rubric, ANN, []))["questions"] == (0, 0, 2)


def test_the_default_rubric_is_sensible_and_described():
    rubric = Rubric()
    assert rubric.most == 10
    assert rubric.describe()[0] == "3 comments of at least 15 words: 6 points"
    assert rubric.describe()[-1] == (
        "At most 10 points in all. Work after the deadline does not count."
    )


def test_a_rubric_from_a_form():
    form = {name: "2" for name in Rubric.names() if name != "count_late"}
    assert from_form(form) == Rubric(**{**dict.fromkeys(form, 2), "count_late": False})
    assert from_form({**form, "count_late": "on"}).count_late is True


@pytest.mark.parametrize(
    "needed, points, label",
    [
        ("comments_needed", "comment_points", "Comments needed"),
        ("replies_needed", "reply_points", "Replies needed"),
        ("questions_needed", "question_points", "Questions needed"),
        ("upvotes_needed", "upvote_points", "Upvotes needed"),
    ],
)
def test_a_form_asking_for_none_of_something_worth_points_is_refused(needed, points, label):
    form = {name: "2" for name in Rubric.names() if name != "count_late"}
    with pytest.raises(RubricError, match=rf"^{label}: 0 would give every student its 2 points"):
        from_form({**form, needed: "0"})
    # Left out: none needed and worth nothing; the student's total is the rest.
    left_out = from_form({**form, needed: "0", points: "0"})
    assert getattr(left_out, needed) == 0 and getattr(left_out, points) == 0
    assert score(left_out, ANN, []).computed == 0
    assert f"{label.split()[0]}: left out (0 points)" in left_out.describe()


@pytest.mark.parametrize("bad", ["", "-1", "1.5", "1001", "٣", "²", "99999", "ten"])
def test_a_bad_number_in_the_rubric_form_names_its_field(bad):
    form = {name: "2" for name in Rubric.names() if name != "count_late"}
    with pytest.raises(RubricError, match=r"^Replies needed: give a whole number from 0 to 1000"):
        from_form({**form, "replies_needed": bad})
