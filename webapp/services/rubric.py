"""Scores from plain counts: the rubric, and each student's score with its evidence.

Plain logic, no database and no Flask: the grading service hands in the facts (one per
note or reply a student wrote for an assignment), this module says what counted and why.

A rubric has four criteria, each met by a count and worth its points when met:

- comments: at least N notes whose comment has at least M words;
- replies: at least N replies;
- questions: at least N notes asked as questions;
- upvotes: at least N upvotes received on one's notes, from other people (a vote for
  one's own note never counts: the facts carry only others' votes, and this module
  checks it again).

The total is the points of the criteria met, at most the cap. Work after the student's
deadline (the extended one, when they have an extension) counts only when the rubric says
so; otherwise it is listed as not counted, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime

NOTE = "note"
REPLY = "reply"
LIMIT = 1000  # the largest count or number of points a form may give


@dataclass(frozen=True)
class Rubric:
    comments_needed: int = 3
    comment_words: int = 15
    comment_points: int = 6
    replies_needed: int = 2
    reply_points: int = 2
    questions_needed: int = 1
    question_points: int = 1
    upvotes_needed: int = 1
    upvote_points: int = 1
    cap: int = 10
    count_late: bool = False

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @property
    def most(self) -> int:
        """The most points a student can get."""
        total = self.comment_points + self.reply_points + self.question_points
        return min(total + self.upvote_points, self.cap)

    def describe(self) -> list[str]:
        """The rubric in words, a line per criterion."""
        late = "Late work counts." if self.count_late else "Work after the deadline does not count."
        criteria = [
            (
                "Comments",
                self.comment_points,
                f"{self.comments_needed} comment{_s(self.comments_needed)} of at least "
                f"{self.comment_words} word{_s(self.comment_words)}",
            ),
            (
                "Replies",
                self.reply_points,
                f"{self.replies_needed} repl{'y' if self.replies_needed == 1 else 'ies'}",
            ),
            (
                "Questions",
                self.question_points,
                f"{self.questions_needed} question{_s(self.questions_needed)} asked",
            ),
            (
                "Upvotes",
                self.upvote_points,
                f"{self.upvotes_needed} upvote{_s(self.upvotes_needed)} received from others",
            ),
        ]
        return [
            *(
                f"{what}: {points} point{_s(points)}" if points else f"{name}: left out (0 points)"
                for name, points, what in criteria
            ),
            f"At most {self.cap} point{_s(self.cap)} in all. {late}",
        ]


class RubricError(ValueError):
    """A rubric field a person can fix; the message says which."""


LABELS = {
    "comments_needed": "Comments needed",
    "comment_words": "Words per comment",
    "comment_points": "Points for the comments",
    "replies_needed": "Replies needed",
    "reply_points": "Points for the replies",
    "questions_needed": "Questions needed",
    "question_points": "Points for the questions",
    "upvotes_needed": "Upvotes needed",
    "upvote_points": "Points for the upvotes",
    "cap": "Most points in all",
}


def from_form(form) -> Rubric:
    """A rubric from form fields (whole numbers from 0 to LIMIT; count_late a checkbox). A
    criterion is left out with 0 points; asking for 0 of something worth points is refused."""
    values: dict[str, object] = {}
    for name, label in LABELS.items():
        raw = (form.get(name) or "").strip()
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 4 or int(raw) > LIMIT:
            raise RubricError(f"{label}: give a whole number from 0 to {LIMIT}.")
        values[name] = int(raw)
    for needed, points in NEEDED_AND_POINTS:
        if values[needed] == 0 and values[points] > 0:
            # Met by everyone, even a student who wrote nothing: surely not what was meant.
            raise RubricError(
                f"{LABELS[needed]}: 0 would give every student its {values[points]} "
                f"point{_s(values[points])} for nothing. Ask for at least 1, or give "
                f"{LABELS[points].lower()} 0 to leave it out."
            )
    values["count_late"] = form.get("count_late") in ("on", "1", "true", "yes")
    return Rubric(**values)


NEEDED_AND_POINTS = (
    ("comments_needed", "comment_points"),
    ("replies_needed", "reply_points"),
    ("questions_needed", "question_points"),
    ("upvotes_needed", "upvote_points"),
)


@dataclass(frozen=True)
class Fact:
    """One note or reply a student wrote for the assignment."""

    kind: str  # NOTE or REPLY
    id: int
    words: int
    created_at: datetime
    late: bool = False
    question: bool = False
    # For notes: the ids of the people who upvoted it.
    voters: tuple[int, ...] = ()


@dataclass(frozen=True)
class Evidence:
    """A fact, and what the rubric made of it."""

    fact: Fact
    counted_for: tuple[str, ...]  # criteria it counted towards
    why: str


@dataclass(frozen=True)
class CriterionResult:
    name: str
    label: str
    have: int
    needed: int
    points: int  # earned
    worth: int

    @property
    def met(self) -> bool:
        return self.have >= self.needed


@dataclass
class Score:
    criteria: list[CriterionResult]
    computed: int
    evidence: list[Evidence] = field(default_factory=list)
    capped: bool = False

    def line(self) -> str:
        """The score's reasons, one line (for a table cell or a CSV)."""
        parts = [f"{c.label} {c.have}/{c.needed}: {c.points}" for c in self.criteria]
        return "; ".join(parts) + (" (capped)" if self.capped else "")


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def score(rubric: Rubric, student_id: int, facts: list[Fact]) -> Score:
    """The student's score for the assignment, with every fact and why it counted or not."""
    evidence: list[Evidence] = []
    comments = replies = questions = upvotes = 0
    for fact in sorted(facts, key=lambda f: (f.created_at, f.kind, f.id)):
        if fact.late and not rubric.count_late:
            evidence.append(Evidence(fact, (), "after the deadline: not counted"))
            continue
        counted: list[str] = []
        reasons: list[str] = []
        if fact.kind == REPLY:
            replies += 1
            counted.append("replies")
            reasons.append("a reply")
        else:
            if fact.words >= rubric.comment_words:
                comments += 1
                counted.append("comments")
                reasons.append(f"a comment of {fact.words} word{_s(fact.words)}")
            else:
                reasons.append(
                    f"{fact.words} word{_s(fact.words)}: fewer than {rubric.comment_words}"
                )
            if fact.question:
                questions += 1
                counted.append("questions")
                reasons.append("a question")
            others = sum(1 for voter in fact.voters if voter != student_id)
            if others:
                upvotes += others
                counted.append("upvotes")
                reasons.append(f"{others} upvote{_s(others)} from others")
        if fact.late:
            reasons.append("late (late work counts)")
        evidence.append(Evidence(fact, tuple(counted), "; ".join(reasons)))

    criteria = [
        _criterion("comments", "Comments", comments, rubric.comments_needed, rubric.comment_points),
        _criterion("replies", "Replies", replies, rubric.replies_needed, rubric.reply_points),
        _criterion(
            "questions", "Questions", questions, rubric.questions_needed, rubric.question_points
        ),
        _criterion("upvotes", "Upvotes", upvotes, rubric.upvotes_needed, rubric.upvote_points),
    ]
    total = sum(c.points for c in criteria)
    return Score(criteria, min(total, rubric.cap), evidence, capped=total > rubric.cap)


def _criterion(name: str, label: str, have: int, needed: int, worth: int) -> CriterionResult:
    earned = worth if have >= needed else 0
    return CriterionResult(name, label, have, needed, earned, worth)
