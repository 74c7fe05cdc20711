"""The pages a visitor who is not signed in sees, served from the page cache
(webapp/page_cache.py): every write that changes them shows on the next request, in every
worker; nothing per visitor is kept; signed-in readers never get a visitor's bytes."""

from __future__ import annotations

import gzip
import re

import pytest
import sqlalchemy as sa
from flask import g
from flask_migrate import upgrade
from sqlalchemy import event

from tests.conftest import HTMX, SEED_SLUG, make_config
from tests.functional.article_helpers import article_titled, owned_article
from tests.functional.helpers import create, select
from tests.functional.test_articles_manage import SEED_TITLE, sign_in, user
from tests.functional.test_postgres import postgres_url  # noqa: F401 - the fixture
from webapp import create_app
from webapp.models import Document, DocumentVersion
from webapp.services import articles
from webapp.services.documents import import_article

ARTICLE = f"/articles/{SEED_SLUG}"
TOKEN = re.compile(r'name="csrf_token" value="([^"]*)"')


@pytest.fixture
def app_config() -> dict:
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture(autouse=True)
def token_per_request(app):
    # The tests share one app context (and `g`) across requests; a server gives each
    # request its own, and with it its own CSRF token.
    @app.before_request
    def _new_token() -> None:
        g.pop("csrf_token", None)


def visit(app, path: str, **headers):
    """A new visitor (no cookie), as a crawler or `wrk` is."""
    return app.test_client(use_cookies=False).get(path, headers=headers)


def text(response) -> str:
    return response.get_data(as_text=True)


def warm(app, *paths: str) -> None:
    for path in paths:
        for _ in range(2):
            assert visit(app, path).status_code == 200


def without_token(html: str) -> str:
    return TOKEN.sub("", html)


def test_a_new_public_article_shows_at_once(app, db):
    warm(app, "/")
    result = import_article(db.session, article_titled("Herons at Dawn"), "herons.md")
    db.session.commit()
    assert "Herons at Dawn" in text(visit(app, "/"))
    assert "Herons at Dawn" in text(visit(app, f"/articles/{result.document.slug}"))


def test_a_new_version_shows_on_the_library_and_the_article(app, db):
    result = import_article(db.session, article_titled("Owls", "First words."), "owls.md")
    db.session.commit()
    url = f"/articles/{result.document.slug}"
    warm(app, "/", url)
    import_article(db.session, article_titled("Owls at Night", "Second words."), "owls.md")
    db.session.commit()
    library, reader = text(visit(app, "/")), text(visit(app, url))
    assert "Owls at Night" in library
    assert "Owls at Night" in reader and "Second words." in reader
    assert "First words." not in reader


def test_archive_restore_and_delete_of_a_public_article_show_at_once(app, db, seed_document):
    warm(app, "/", ARTICLE)
    seed_document.archived_at = sa.func.now()
    db.session.commit()
    assert SEED_TITLE not in text(visit(app, "/"))
    assert visit(app, ARTICLE).status_code == 404
    seed_document.archived_at = None
    db.session.commit()
    assert SEED_TITLE in text(visit(app, "/"))
    assert visit(app, ARTICLE).status_code == 200
    db.session.execute(sa.update(Document).values(current_version_id=None))
    db.session.execute(sa.delete(DocumentVersion).where(DocumentVersion.document_id > 0))
    db.session.execute(sa.delete(Document).where(Document.id == seed_document.id))
    db.session.commit()
    assert SEED_TITLE not in text(visit(app, "/"))
    assert visit(app, ARTICLE).status_code == 404


def test_a_title_changed_in_raw_sql_shows_at_once(app, db):
    # The database's triggers see every write, whoever makes it.
    warm(app, "/", ARTICLE)
    db.session.execute(sa.text("UPDATE document_versions SET title = 'Renamed by hand'"))
    db.session.commit()
    assert "Renamed by hand" in text(visit(app, "/"))
    assert "Renamed by hand" in text(visit(app, ARTICLE))


def test_every_worker_sees_a_write_at_once(app, db, tmp_path):
    other = create_app(make_config(tmp_path, WTF_CSRF_ENABLED=True))  # the same database file
    warm(app, "/")
    warm(other, "/")
    import_article(db.session, article_titled("Kingfishers"), "kingfishers.md")
    db.session.commit()
    assert "Kingfishers" in text(visit(other, "/"))
    assert "Kingfishers" in text(visit(app, "/"))


def test_signed_in_readers_never_get_a_visitors_page(app, db, client):
    warm(app, "/", ARTICLE)
    sign_in(client, user(db, "reader"))
    library, reader = client.get("/"), client.get(ARTICLE)
    assert "Signed in as" in text(library) and "Mine" in text(library)
    assert "Signed in as" in text(reader)
    assert 'name="version"' in text(reader)  # the toolbar of someone who may annotate
    assert "X-CSRFToken" in text(reader)
    # A visitor after them still gets the visitor's page.
    assert "Signed in as" not in text(visit(app, "/"))
    assert "Log in to highlight" in text(visit(app, ARTICLE))


def test_a_flash_message_is_shown_to_its_visitor_and_kept_from_everyone_else(app):
    warm(app, "/")
    flashed = app.test_client()
    with flashed.session_transaction() as session:
        session["_flashes"] = [("info", "Only for this visitor.")]
    assert "Only for this visitor." in text(flashed.get("/"))
    assert "Only for this visitor." not in text(visit(app, "/"))
    assert "Only for this visitor." not in text(flashed.get("/"))  # shown once


def test_each_visitor_gets_a_token_of_their_own_that_works(app, db):
    warm(app, ARTICLE)
    first, second = app.test_client(), app.test_client()
    one, two = first.get(ARTICLE), second.get(ARTICLE)
    tokens = [TOKEN.search(text(r)).group(1) for r in (one, two)]
    assert tokens[0] != tokens[1]
    assert all("session=" in r.headers.get("Set-Cookie", "") for r in (one, two))
    assert without_token(text(one)) == without_token(text(two))
    seed = db.session.scalar(sa.select(Document).where(Document.slug == SEED_SLUG))
    fields = select(seed.current_version.text, "Russian forces")
    response = create(first, fields, csrf_token=tokens[0])
    assert response.status_code == 401  # "log in", not "reload the page"
    # The library sets no cookie, cached or not.
    warm(app, "/")
    assert "Set-Cookie" not in visit(app, "/").headers


def test_a_visitor_who_already_has_a_token_keeps_it(app):
    warm(app, ARTICLE)
    visitor = app.test_client()
    first = TOKEN.search(text(visitor.get(ARTICLE))).group(1)
    second = visitor.get(ARTICLE)
    assert TOKEN.search(text(second)).group(1).split(".")[0] == first.split(".")[0]


@pytest.mark.parametrize("path", ["/", ARTICLE])
def test_the_gzip_of_a_kept_page_is_the_page(app, path):
    plain = text(visit(app, path))
    for _ in range(2):  # rendered, then from the cache
        zipped = visit(app, path, **{"Accept-Encoding": "gzip"})
        assert zipped.headers["Content-Encoding"] == "gzip"
        assert {"Accept-Encoding", "Cookie", "HX-Request"} <= {
            v.strip() for v in zipped.headers["Vary"].split(",")
        }
        assert without_token(gzip.decompress(zipped.data).decode()) == without_token(plain)
    refused = visit(app, path, **{"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused.headers
    assert without_token(text(refused)) == without_token(plain)


def test_kept_pages_answer_head_htmx_and_conditional_requests(app):
    warm(app, "/", ARTICLE)
    for path in ("/", ARTICLE):
        head = app.test_client(use_cookies=False).head(path)
        assert head.status_code == 200 and head.data == b""
        assert int(head.headers["Content-Length"]) == len(visit(app, path).data)
    fragment = text(visit(app, "/", **HTMX))
    assert "<html" not in fragment and "shelf-public" in fragment
    assert "<html" in text(visit(app, "/"))
    etag = visit(app, "/").headers["ETag"]
    assert visit(app, "/", **{"If-None-Match": etag}).status_code == 304
    import_article(app.extensions["sqlalchemy"].session, article_titled("Newts"), "newts.md")
    app.extensions["sqlalchemy"].session.commit()
    assert visit(app, "/", **{"If-None-Match": etag}).status_code == 200
    assert "ETag" not in visit(app, ARTICLE).headers  # a page with a token is never the same


def test_share_links_and_owned_articles_are_never_served_from_the_cache(app, db, client):
    owner = user(db, "owner")
    document = owned_article(db, owner)
    url = f"/articles/{document.slug}"
    assert visit(app, url).status_code == 404
    articles.share_on(document)
    db.session.commit()
    sign_in(client, None)
    assert client.get(f"/shared/{document.share_token}").status_code == 302
    assert client.get(url).status_code == 200
    assert visit(app, url).status_code == 404  # no link held: still not found
    articles.share_off(document)
    db.session.commit()
    assert client.get(url).status_code == 404


def test_a_kept_page_costs_one_statement(app, db):
    warm(app, "/", ARTICLE)
    for path in ("/", ARTICLE):
        seen: list[str] = []

        def record(_conn, _cursor, statement, *_args, seen=seen) -> None:
            seen.append(statement)

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            assert visit(app, path).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        assert len(seen) == 1 and "page_revision" in seen[0], seen


def test_the_page_revision_follows_every_write_on_postgres(tmp_path, postgres_url, monkeypatch):  # noqa: F811
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    config = make_config(tmp_path)
    del config["SQLALCHEMY_DATABASE_URI"]
    app = create_app(config)
    with app.app_context():
        upgrade()
        session = app.extensions["sqlalchemy"].session
        result = import_article(session, article_titled("Herons"), "herons.md")
        session.commit()
        url = f"/articles/{result.document.slug}"
        warm(app, "/", url)
        session.execute(sa.text("UPDATE document_versions SET title = 'Egrets'"))  # raw SQL
        session.commit()
        assert "Egrets" in text(visit(app, "/")) and "Egrets" in text(visit(app, url))
        session.execute(sa.update(Document).values(archived_at=sa.func.now()))
        session.commit()
        assert "Egrets" not in text(visit(app, "/"))
        assert visit(app, url).status_code == 404
        zipped = visit(app, "/", **{"Accept-Encoding": "gzip"})
        assert gzip.decompress(zipped.data).decode() == text(visit(app, "/"))
        session.remove()
        app.extensions["sqlalchemy"].engine.dispose()
