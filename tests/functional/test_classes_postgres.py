"""Roles, archived classes, the moderation queue and groups on a real PostgreSQL: the same
tests as on SQLite (imported from their modules), on a throw-away database each. What
differs there: the groups rule's correlated subqueries in every read path, strict types
for ids in forms, counts as bigints."""

# The fixtures and tests come from the modules named; importing them is how they run here.
# ruff: noqa: F401, F811

from __future__ import annotations

import pytest
from flask import g
from flask_migrate import upgrade

from tests.conftest import make_config
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
from tests.support.postgres import throwaway_database
from webapp import create_app
from webapp.extensions import db as _db


@pytest.fixture
def app(tmp_path):
    with throwaway_database() as url:
        uri = url.replace("postgresql://", "postgresql+psycopg://", 1)
        app = create_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=uri))

        @app.before_request
        def _fresh_login_cache():
            g.pop("_login_user", None)

        with app.app_context():
            upgrade()
            app.test_cli_runner().invoke(args=["seed"], catch_exceptions=False)
            yield app
            _db.session.remove()
            _db.engine.dispose()
