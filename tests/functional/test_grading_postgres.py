"""Deadlines, scores, the heat map and the CSVs on a real PostgreSQL: the same tests as on
SQLite (imported from test_grading.py), on a throw-away database each. What differs there:
the heat map's sums of CASE over booleans in GROUP BY queries, timestamps compared with
extensions, and 32-bit ids."""

# The fixtures and tests come from the module named; importing them is how they run here.
# ruff: noqa: F401, F811

from __future__ import annotations

from tests.functional.test_grading import (
    course,
    discussed,
    test_a_deadline_reminder_comes_before_the_students_own_deadline,
    test_every_note_and_reply_as_csv,
    test_extensions_are_granted_changed_and_taken_back,
    test_late_work_is_marked_in_participation_and_on_the_cards_for_instructors,
    test_only_the_class_instructors_open_the_reports,
    test_scores_follow_the_rubric_and_list_their_evidence,
    test_the_grade_book_csv,
    test_the_heat_map_ranks_passages_and_lists_open_questions,
)
from tests.functional.test_people_postgres import app, app_config
