"""Throw-away PostgreSQL databases, on the server these tests run against.

PostgreSQL runs on 127.0.0.1:5432 on the machines this project is developed and tested
on; TEST_POSTGRES_URL points elsewhere. A test skips, saying why, only when the server
cannot be reached at all.

Most tests want a database already migrated and seeded: `postgres_app` gives each one a
copy (CREATE DATABASE ... TEMPLATE) of a database migrated once per test process, as the
SQLite tests copy one file. The tests of migrations themselves start from empty databases.
"""

from __future__ import annotations

import atexit
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from flask import Flask, g
from flask_migrate import upgrade

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")

_seeded_template: str | None = None


def database_url(name: str) -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def sqlalchemy_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def _admin() -> psycopg.Connection:
    try:
        return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL is not reachable at {ADMIN_URL} (TEST_POSTGRES_URL): {error}")


def _drop(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def throwaway_database(template: str | None = None) -> Iterator[str]:
    """Create a database of its own (empty, or a copy of `template`), yield its URL, drop it."""
    name = f"marginalia_test_{uuid.uuid4().hex[:12]}"
    with _admin() as admin:
        copy = f' TEMPLATE "{template}"' if template else ""
        admin.execute(f'CREATE DATABASE "{name}"{copy}')
    try:
        yield database_url(name)
    finally:
        _drop(name)


def seeded_template() -> str:
    """The name of a database migrated to head and seeded, made once per test process."""
    global _seeded_template
    if _seeded_template is None:
        from tests.conftest import make_config
        from webapp import create_app
        from webapp.extensions import db

        name = f"marginalia_template_{uuid.uuid4().hex[:12]}"
        with _admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        atexit.register(_drop, name)
        folder = Path(tempfile.mkdtemp(prefix="marginalia-template-"))
        config = make_config(folder, SQLALCHEMY_DATABASE_URI=sqlalchemy_url(database_url(name)))
        app = create_app(config)
        with app.app_context():
            upgrade()
            app.test_cli_runner().invoke(args=["seed"], catch_exceptions=False)
            db.session.remove()
            db.engine.dispose()  # a template takes no connections while it is copied
        _seeded_template = name
    return _seeded_template


@contextmanager
def postgres_app(tmp_path: Path, **config) -> Iterator[Flask]:
    """The app on a throw-away PostgreSQL database that starts migrated and seeded, inside
    its app context (as the SQLite `app` fixture). `app.database_name` names the database."""
    from tests.conftest import make_config
    from webapp import create_app
    from webapp.extensions import db

    with throwaway_database(template=seeded_template()) as url:
        app = create_app(
            make_config(tmp_path, SQLALCHEMY_DATABASE_URI=sqlalchemy_url(url), **config)
        )
        app.database_name = url.rsplit("/", 1)[1]

        @app.before_request
        def _fresh_login_cache():
            # Requests share the test's app context: see the `app` fixture in conftest.
            g.pop("_login_user", None)

        with app.app_context():
            yield app
            db.session.remove()
            db.engine.dispose()
