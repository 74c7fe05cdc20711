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
from flask_migrate import downgrade, upgrade

from tests.conftest import HTMX, PASSWORD, SEED_SLUG, make_config
from webapp import create_app
from webapp.extensions import db
from webapp.models import Annotation, Document

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
        assert f'<mark data-annotations="{annotation_id}"' in page

        db.session.remove()
        downgrade(revision="base")
        tables = sa.inspect(db.engine).get_table_names()
        assert [t for t in tables if t != "alembic_version"] == []
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
        downgrade(revision="567d4d9c6010")
        tables = sa.inspect(db.engine).get_table_names()
        assert "document_assets" not in tables and "version_assets" not in tables
        assert db.session.scalar(sa.select(sa.func.count(DocumentVersion.id))) == versions
        db.session.remove()
        upgrade()
        assert "document_assets" in sa.inspect(db.engine).get_table_names()
        assert db.session.scalar(sa.select(sa.func.count(DocumentVersion.id))) == versions
        db.session.remove()
        db.engine.dispose()
