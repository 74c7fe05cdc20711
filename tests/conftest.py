"""Fixtures: an app on a temporary SQLite file migrated by Alembic, a client, helpers."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask, g
from flask_migrate import upgrade
from jinja2 import BytecodeCache

from webapp import create_app
from webapp.extensions import db as _db
from webapp.models import Document
from webapp.services.accounts import create_user

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SEEDS = PROJECT_ROOT / "seeds"
SEED_SLUG = "russian-military-needed-in-syria-long-term-assad-says"
PASSWORD = "correct horse battery"


class SharedBytecodeCache(BytecodeCache):
    """Compiled templates kept for the whole test process, keyed by each template's source.

    Every test builds an app, and every app its own Jinja environment: without this, each
    test would parse and compile the templates it renders again (most of a small test)."""

    def __init__(self) -> None:
        self._compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self._compiled:
            bucket.bytecode_from_string(self._compiled[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        self._compiled[bucket.key] = bucket.bytecode_to_string()


def pytest_configure(config) -> None:
    Flask.jinja_options = {**Flask.jinja_options, "bytecode_cache": SharedBytecodeCache()}


def make_config(tmp: Path, **extra) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "INSTANCE_PATH": str(tmp),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'test.db'}",
        "SEEDS_DIR": str(SEEDS),
        "WTF_CSRF_ENABLED": False,
        **extra,
    }


def copy_database(source: Path, target: Path) -> None:
    """Copy a SQLite database through the backup API (a file copy would miss the WAL)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory) -> Path:
    """One database migrated to head and seeded; each test gets a copy of the file."""
    tmp = tmp_path_factory.mktemp("template")
    app = create_app(make_config(tmp))
    with app.app_context():
        upgrade()
        app.test_cli_runner().invoke(args=["seed"], catch_exceptions=False)
        _db.engine.dispose()
    return tmp / "test.db"


@pytest.fixture
def app_config() -> dict:
    """Override in a test module to change the app's configuration."""
    return {}


@pytest.fixture
def app(tmp_path, migrated_db, app_config):
    copy_database(migrated_db, tmp_path / "test.db")
    app = create_app(make_config(tmp_path, **app_config))

    def _fresh_login_cache():
        # Requests share the test's app context (and so `g`): without this, Flask-Login's
        # cached user would carry over from one client's request to another's. First of
        # the hooks: the app's own (the deadline reminders) ask for the user too.
        g.pop("_login_user", None)

    app.before_request_funcs.setdefault(None, []).insert(0, _fresh_login_cache)

    with app.app_context():
        yield app
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def seed_document(db) -> Document:
    return db.session.scalar(sa.select(Document).where(Document.slug == SEED_SLUG))


class Auth:
    """Create users and log the test client in as one of them."""

    def __init__(self, client, db):
        self.client = client
        self.db = db

    def create(self, username: str):
        user = create_user(self.db.session, username, PASSWORD)
        self.db.session.commit()
        return user

    def login(self, username: str = "reader"):
        from webapp.services.accounts import find_user

        user = find_user(self.db.session, username) or self.create(username)
        response = self.client.post("/login", data={"username": username, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    def logout(self):
        self.client.post("/logout")


def session_id_for(db, user) -> str:
    """What Flask-Login keeps in the session for `user`: a login session opened for it,
    without the password form (tests that sign many people in)."""
    from datetime import timedelta

    from webapp.services.accounts import start_session

    start_session(db.session, user, timedelta(days=1))
    db.session.commit()
    return user.get_id()


@pytest.fixture
def auth(client, db) -> Auth:
    return Auth(client, db)


HTMX = {"HX-Request": "true"}
