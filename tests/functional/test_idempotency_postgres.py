"""Idempotent writes on a real PostgreSQL: the same tests as on SQLite (imported from their
module), on a throw-away database each. What differs there: concurrent repeats meet the
unique index inside their own transactions (READ COMMITTED), and the loser reads the
winner's row after its savepoint is rolled back."""

# The fixtures and tests come from the module named; importing them is how they run here.
# ruff: noqa: F401, F811

from __future__ import annotations

import pytest

from tests.functional.test_idempotency import (
    as_,
    class_note,
    room,
    test_a_concurrent_duplicate_finds_the_saved_row,
    test_a_malformed_key_is_a_clear_422,
    test_a_repeated_note_is_answered_with_the_one_saved,
    test_a_repeated_reply_is_answered_with_the_one_saved,
    test_concurrent_repeats_save_one_reply,
    test_keys_are_per_author_and_optional,
    text,
)
from tests.support.postgres import postgres_app


@pytest.fixture
def app(tmp_path):
    with postgres_app(tmp_path) as app:
        yield app
