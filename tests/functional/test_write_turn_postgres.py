"""A note's create on a real PostgreSQL when what it read changes before it writes: the
same tests as on SQLite (imported from their module), on a throw-away database each.
The re-check there also takes a share lock on the article's row until the commit."""

# The fixtures and tests come from the module named; importing them is how they run here.
# ruff: noqa: F401, F811

from __future__ import annotations

import pytest

from tests.functional.test_write_turn import (
    as_,
    class_note,
    elsewhere,
    room,
    test_a_class_notes_answer_draws_its_blocks_as_the_page_shows_them,
    test_a_classmates_note_hidden_meanwhile_is_not_in_a_class_notes_answer,
    test_a_login_ended_between_the_read_and_the_write_saves_nothing,
    test_a_private_notes_answer_draws_its_blocks_as_the_page_shows_them,
    test_an_archived_class_or_a_removed_member_between_the_read_and_the_write,
    test_an_article_revised_between_the_read_and_the_write_is_a_409_and_nothing_saved,
    test_the_rate_limit_is_counted_with_the_write,
    test_the_same_key_saved_meanwhile_is_answered_with_that_note,
    text,
)
from tests.support.postgres import postgres_app


@pytest.fixture
def app(tmp_path):
    with postgres_app(tmp_path) as app:
        yield app
