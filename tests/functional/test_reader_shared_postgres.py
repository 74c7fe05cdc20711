"""A class's shared view of an article on a real PostgreSQL: the same tests as on SQLite
(imported from their module), on a throw-away database each. What differs there: the
statements that read a student's rows in one (UNION ALL of rows of several shapes, with
empty columns), the login session read with the notifications' counts; a write's answer
brought up to date from the change log (the changed notes' rows and the writer's own, a
CASE of the visibility rule in it)."""

# The fixtures and tests come from the modules named; importing them is how they run here.
# ruff: noqa: F401, F811

from __future__ import annotations

import pytest

from tests.functional.test_reader_shared import (
    test_a_new_note_shows_to_classmates,
    test_a_students_own_cards_are_kept_for_them_alone_and_follow_changes,
    test_a_students_page_is_the_same_with_or_without_the_shared_views,
    test_a_writes_answer_draws_its_blocks_from_the_shared_view_as_read_alone,
    test_reading_in_groups_is_not_shared_across_groups,
    test_roles_and_removal_show_to_classmates,
    test_the_due_banner_and_an_extension_are_the_same_with_or_without_the_shared_views,
    test_the_parts_of_the_page_kept_for_the_class_follow_its_settings,
    world,
)
from tests.support.postgres import postgres_app


@pytest.fixture
def app(tmp_path):
    with postgres_app(tmp_path) as app:
        yield app
