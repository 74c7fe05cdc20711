"""Adding, previewing, publishing and editing articles on PostgreSQL, bad input included:
a 4xx with the form, never a 500 (PostgreSQL refuses NUL characters, for one)."""

from __future__ import annotations

import io

import sqlalchemy as sa
from flask import g
from flask_migrate import upgrade

from tests.conftest import PASSWORD, make_config
from tests.functional.helpers import page
from tests.functional.test_postgres import postgres_url  # noqa: F401 - the fixture
from tests.samples import docx, png
from webapp import create_app
from webapp.extensions import db
from webapp.models import ArticleDraft, Document


def test_articles_from_the_browser_on_postgres(tmp_path, postgres_url, monkeypatch):  # noqa: F811
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    config = make_config(tmp_path)
    del config["SQLALCHEMY_DATABASE_URI"]
    app = create_app(config)

    @app.before_request
    def _fresh_login_cache():
        g.pop("_login_user", None)  # requests share the test's app context: see conftest

    with app.app_context():
        upgrade()
        client = app.test_client()
        client.post("/signup", data={"username": "pg-writer", "password": PASSWORD})

        # Bad input: the form again, nothing stored.
        for data, status in (
            ({"way": "text", "text": ""}, 422),
            ({"way": "url", "url": "ftp://x"}, 422),
            ({"text": "# A\x00B\n\nBody\x00 text.\n", "title": "T\x00", "preview": "1"}, 200),
        ):
            response = client.post("/articles/new", data={"preview": "1", **data})
            assert response.status_code == status, (data, response.status_code)
        upload = {
            "way": "file",
            "preview": "1",
            "file": (io.BytesIO(png()), "photo\x00.pdf"),
        }
        response = client.post("/articles/new", data=upload, content_type="multipart/form-data")
        assert response.status_code == 422
        assert page(response).find(None, role="alert") is not None
        source = io.BytesIO(b"# Hi\n\nThere.\n")
        named = {"way": "file", "preview": "1", "file": (source, "a\x00.md")}
        response = client.post("/articles/new", data=named, content_type="multipart/form-data")
        assert response.status_code == 200

        # A Word document with an image: preview, publish, edit, versions.
        upload = {"way": "file", "preview": "1", "file": (io.BytesIO(docx(image=png())), "n.docx")}
        response = client.post("/articles/new", data=upload, content_type="multipart/form-data")
        assert response.status_code == 200
        token = page(response).find("input", name="draft").get("value")
        response = client.post("/articles/new", data={"draft": token, "publish": "1"})
        assert response.status_code == 302
        slug = response.headers["Location"].rsplit("/", 1)[1]
        assert client.get(f"/articles/{slug}").status_code == 200
        edit = page(client.get(f"/articles/{slug}/edit"))
        text = edit.find("textarea", name="text").text() + "\nA new closing line.\n"
        fields = {
            name: edit.find("input", name=name).get("value") or ""
            for name in ("title", "byline", "date", "source_url")
        }
        response = client.post(
            f"/articles/{slug}/edit",
            data={"way": "edit", "text": text, "preview": "1", "details": "exact", **fields},
        )
        assert response.status_code == 200
        token = page(response).find("input", name="draft").get("value")
        response = client.post(f"/articles/{slug}/edit", data={"draft": token, "confirm": "1"})
        assert response.status_code == 302
        document = db.session.scalar(sa.select(Document).where(Document.slug == slug))
        assert document.current_version.number == 2 and document.owner_id is not None
        assert "A new closing line." in document.current_version.text
        assert client.get(f"/articles/{slug}").data.count(b"<img") == 1
        db.session.remove()
        other = app.test_client()
        assert other.get(f"/articles/{slug}").status_code == 404
        # The NUL paste and the NUL file name wait as drafts.
        assert db.session.scalar(sa.select(sa.func.count(ArticleDraft.id))) == 2
        db.session.remove()
        db.engine.dispose()
