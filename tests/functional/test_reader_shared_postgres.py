"""The class's shared view on a real PostgreSQL: a write's answer brought up to date from
the change log (one statement of the changed notes' rows and the writer's own, a CASE of
the visibility rule in it) draws what a read alone draws. The tests come from
test_reader_shared (imported), on a throw-away database each."""

# The fixtures and tests come from the module named; importing them is how they run here.
# ruff: noqa: F401, F811

from __future__ import annotations

import pytest

from tests.functional.test_reader_shared import (
    test_a_new_note_shows_to_classmates,
    test_a_writes_answer_draws_its_blocks_from_the_shared_view_as_read_alone,
    world,
)
from tests.support.postgres import postgres_app


@pytest.fixture
def app(tmp_path):
    with postgres_app(tmp_path) as app:
        yield app
