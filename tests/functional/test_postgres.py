"""The DATABASE_URL path on a real PostgreSQL: migrations up and down, import, annotate.

PostgreSQL runs on 127.0.0.1:5432 on the machines this project is developed and tested
on; TEST_POSTGRES_URL points elsewhere. Each run uses a database of its own.
"""

from __future__ import annotations

import os
import re
import uuid

import psycopg
import pytest
import sqlalchemy as sa
from flask import g
from flask_migrate import downgrade, upgrade

from tests.conftest import HTMX, PASSWORD, SEED_SLUG, make_config
from tests.functional.test_accounts import (
    HOME,
    KELVIN_KATE,
    check_accounts_migration,
    fail_logins,
    log_in,
)
from tests.support.migrations import revision_before
from webapp import create_app
from webapp.extensions import db
from webapp.models import Annotation, Document, FailedAttempt, User
from webapp.services.accounts import create_user
from webapp.services.limits import LOGIN_PER_ACCOUNT_AND_CLIENT

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def postgres_url():
    name = f"marginalia_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_postgres_migrate_import_annotate(tmp_path, postgres_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    config = make_config(tmp_path)
    del config["SQLALCHEMY_DATABASE_URI"]  # taken from DATABASE_URL, as in production
    app = create_app(config)
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    with app.app_context():
        upgrade()
        runner = app.test_cli_runner()
        assert runner.invoke(args=["seed"]).exit_code == 0
        assert "unchanged" in runner.invoke(args=["seed"]).output
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Document)) == 1

        client = app.test_client()
        client.post("/signup", data={"username": "pg-reader", "password": PASSWORD})
        page = client.get(f"/articles/{SEED_SLUG}").get_data(as_text=True)
        version = re.search(r'data-version="(\d+)"', page).group(1)
        document = db.session.scalar(sa.select(Document).where(Document.slug == SEED_SLUG))
        text = document.current_version.text
        start = text.index("Hmeimim military base")
        end = start + len("Hmeimim military base")
        response = client.post(
            f"/articles/{SEED_SLUG}/annotations",
            data={"start": start, "end": end, "exact": text[start:end], "version": version},
            headers=HTMX,
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        (annotation_id,) = db.session.scalars(sa.select(Annotation.id)).all()
        page = client.get(f"/articles/{SEED_SLUG}").get_data(as_text=True)
        assert f'<mark data-at="{start}"' in page

        db.session.remove()
        downgrade(revision="base")
        tables = sa.inspect(db.engine).get_table_names()
        assert [t for t in tables if t != "alembic_version"] == []
        db.engine.dispose()


def postgres_app(tmp_path, postgres_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    config = make_config(tmp_path)
    del config["SQLALCHEMY_DATABASE_URI"]
    app = create_app(config)

    @app.before_request
    def _fresh_login_cache():
        g.pop("_login_user", None)  # as in tests/conftest.py: requests share one app context

    return app


def test_postgres_kelvin_sign_counts_against_kate(tmp_path, postgres_url, monkeypatch):
    app = postgres_app(tmp_path, postgres_url, monkeypatch)
    with app.app_context():
        upgrade()
        create_user(db.session, "kate", PASSWORD)
        db.session.commit()
        client = app.test_client()
        fail_logins(client, db, KELVIN_KATE, LOGIN_PER_ACCOUNT_AND_CLIENT.free + 7, HOME)
        assert set(db.session.scalars(sa.select(FailedAttempt.subject))) == {"kate"}
        response = log_in(client, "kate", address=HOME)
        assert response.status_code == 429 and int(response.headers["Retry-After"]) > 60
        signup = client.post("/signup", data={"username": KELVIN_KATE, "password": PASSWORD})
        assert signup.status_code == 400
        assert "is taken" in signup.get_data(as_text=True)
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1
        db.session.remove()
        db.engine.dispose()


def test_postgres_accounts_migration_keeps_every_row(tmp_path, postgres_url, monkeypatch):
    app = postgres_app(tmp_path, postgres_url, monkeypatch)
    with app.app_context():
        check_accounts_migration(app)
        db.engine.dispose()


def test_postgres_images_copied_at_import_and_the_migration_down_and_up(
    tmp_path, postgres_url, monkeypatch
):
    from tests.samples import docx, png
    from webapp.models import DocumentAsset, DocumentVersion
    from webapp.services.documents import import_extracted
    from webapp.text.extract import extract

    monkeypatch.setenv("DATABASE_URL", postgres_url)
    config = make_config(tmp_path)
    del config["SQLALCHEMY_DATABASE_URI"]
    app = create_app(config)
    image = png(7, 7, (1, 99, 200))
    with app.app_context():
        upgrade()
        article = extract(docx(image=image, caption="A figure"), filename="pg.docx")
        result = import_extracted(db.session, article, source_name="pg.docx", owner_id=None)
        again = import_extracted(db.session, article, source_name="pg.docx", owner_id=None)
        db.session.commit()
        assert (result.status, again.status) == ("created", "unchanged")
        digest = db.session.scalar(sa.select(DocumentAsset.digest))
        response = app.test_client().get(f"/media/{digest}")
        assert response.status_code == 200 and response.data == image
        versions = db.session.scalar(sa.select(sa.func.count(DocumentVersion.id)))

        db.session.remove()
        downgrade(revision=revision_before("i7ext_document_assets"))
        tables = sa.inspect(db.engine).get_table_names()
        assert "document_assets" not in tables and "version_assets" not in tables
        assert db.session.scalar(sa.select(sa.func.count(DocumentVersion.id))) == versions
        db.session.remove()
        upgrade()
        assert "document_assets" in sa.inspect(db.engine).get_table_names()
        assert db.session.scalar(sa.select(sa.func.count(DocumentVersion.id))) == versions
        db.session.remove()
        db.engine.dispose()
