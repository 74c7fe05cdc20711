"""Ids out of range and control characters on a real PostgreSQL, where an id of 2**31 in a
query and a NUL in a text are database errors: never a 500. A database of its own per
test, as in test_postgres.py (PostgreSQL on 127.0.0.1:5432, or TEST_POSTGRES_URL).
"""

# The fixture comes from test_postgres; using it as a parameter is how pytest works.
# ruff: noqa: F811

from __future__ import annotations

import pytest
from flask_migrate import upgrade

from tests.conftest import make_config
from tests.functional import bad_input
from tests.functional.bad_input import Site, build_site
from tests.functional.test_postgres import postgres_url  # noqa: F401 - fixture
from webapp import create_app
from webapp.extensions import db


@pytest.fixture
def site(tmp_path, postgres_url, monkeypatch) -> Site:
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    config = make_config(tmp_path)
    del config["SQLALCHEMY_DATABASE_URI"]  # taken from DATABASE_URL, as in production
    app = create_app(config)
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    with app.app_context():
        upgrade()
        assert app.test_cli_runner().invoke(args=["seed"]).exit_code == 0
    yield build_site(app)
    with app.app_context():
        db.engine.dispose()


def test_postgres_an_id_out_of_range_in_a_url_is_a_404(site):
    bad_input.check_ids_in_urls(site)


def test_postgres_an_id_out_of_range_in_a_query_or_a_form_is_a_4xx(site):
    bad_input.check_ids_in_queries_and_forms(site)


def test_postgres_a_session_with_an_out_of_range_user_id_is_logged_out(site):
    bad_input.check_a_session_with_an_out_of_range_user_id(site)


def test_postgres_a_control_character_in_the_path_is_a_400(site):
    bad_input.check_control_characters_in_the_path(site)


def test_postgres_control_characters_in_a_query_are_dropped(site):
    bad_input.check_control_characters_in_queries(site)


def test_postgres_control_characters_in_form_fields_are_dropped(site):
    bad_input.check_control_characters_in_forms(site)
