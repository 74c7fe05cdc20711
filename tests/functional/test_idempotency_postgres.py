"""Idempotent writes on a real PostgreSQL: the same tests as on SQLite (imported from their
module), on a throw-away database each. What differs there: concurrent repeats meet the
unique index inside their own transactions (READ COMMITTED), and the loser reads the
winner's row after its savepoint is rolled back."""

# The fixtures and tests come from the module named; importing them is how they run here.
# ruff: noqa: F401, F811

from __future__ import annotations

import pytest
from flask import g
from flask_migrate import upgrade

from tests.conftest import make_config
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
