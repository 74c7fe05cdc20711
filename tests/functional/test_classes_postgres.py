"""Roles, archived classes, the moderation queue and groups on a real PostgreSQL: the same
tests as on SQLite (imported from their modules), on a throw-away database each. What
differs there: the groups rule's correlated subqueries in every read path, strict types
for ids in forms, counts as bigints."""

# The fixtures and tests come from the modules named; importing them is how they run here.
# ruff: noqa: F401, F811

from __future__ import annotations

import pytest

from tests.functional.test_class_life import (
    test_a_student_leaves_after_confirming_and_their_notes_stay,
    test_every_write_in_an_archived_class_is_refused,
    test_the_last_instructor_cannot_step_back_or_leave,
    world,
)
from tests.functional.test_groups import (
    test_a_student_reads_only_their_group_and_the_instructors,
    test_random_groups_place_every_student_once,
)
from tests.functional.test_moderation import (
    test_bad_reviews_are_refused_clearly,
    test_hiding_from_the_queue_hides_and_marks_the_flags_reviewed,
    test_the_queue_lists_flags_with_reasons_and_who_flagged,
)
from tests.support.postgres import postgres_app


@pytest.fixture
def app(tmp_path):
    with postgres_app(tmp_path) as app:
        yield app
