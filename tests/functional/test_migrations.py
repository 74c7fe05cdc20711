"""Data migrations of stored notes, on SQLite and PostgreSQL: every row kept, up and down.

- i6disc_rerender_comments renders stored comments and replies again (entities decoded
  once, links only with allowlisted schemes).
- i6disc_private_bare_highlights makes older bare highlights posted to a class private,
  unless a discussion grew on them or an instructor moderated them.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from tests.conftest import PROJECT_ROOT, make_config
from tests.functional.test_postgres import postgres_url  # noqa: F401 - a fixture
from webapp import create_app
from webapp.extensions import db
from webapp.models import Annotation, Document, Reply, Vote, utcnow

FIRST = "i6disc_rerender_comments"
LAST = "i6disc_private_bare_highlights"
# What the renderer stored before: a second decoding, and a link with a data: scheme.
OLD_HTML = {
    "&amp;lt;b&amp;gt;": "<p>&lt;b&gt;</p>",
    "data://example.com/,alert(1)": (
        '<p><a href="data://example.com/,alert(1)" rel="nofollow noopener ugc" '
        'target="_blank">data://example.com/,alert(1)</a></p>'
    ),
}
NEW_HTML = {
    "&amp;lt;b&amp;gt;": "<p>&amp;lt;b&amp;gt;</p>",
    "data://example.com/,alert(1)": "<p>data://example.com/,alert(1)</p>",
}


def before_mine() -> str:
    """The revision these migrations follow, however the heads get chained."""
    return ScriptDirectory(str(PROJECT_ROOT / "migrations")).get_revision(FIRST).down_revision


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request, tmp_path, monkeypatch):
    config = make_config(tmp_path)
    if request.param == "postgresql":
        monkeypatch.setenv("DATABASE_URL", request.getfixturevalue("postgres_url"))
        del config["SQLALCHEMY_DATABASE_URI"]
    app = create_app(config)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def legacy_data(app) -> dict[str, int]:
    """Notes as the code before these migrations could store them, written through the
    tables as that revision has them (later migrations may add columns the models know)."""
    app.test_cli_runner().invoke(args=["seed"], catch_exceptions=False)
    connection = db.session.connection()
    tables = sa.MetaData()
    tables.reflect(connection, only=["users", "classrooms", "annotations", "replies", "votes"])
    users, classrooms = tables.tables["users"], tables.tables["classrooms"]
    annotations, replies, votes = (tables.tables[n] for n in ("annotations", "replies", "votes"))
    now = utcnow()

    def insert(table, **values) -> int:
        return connection.execute(sa.insert(table).returning(table.c.id), values).scalar_one()

    ana = insert(users, username="ana", username_key="ana", password_hash="!", created_at=now)
    ben = insert(users, username="ben", username_key="ben", password_hash="!", created_at=now)
    classroom = insert(classrooms, name="History", join_code="HIST1234", created_at=now)
    version = db.session.scalar(sa.select(Document)).current_version

    def annotation(author, start, body="", html="", classroom_id=None, **extra):
        exact = version.text[start : start + 5]
        defaults = dict(prefix="", suffix="", original_prefix="", original_suffix="")
        defaults |= dict(original_exact=exact, colour="yellow", hidden=False, pinned=False)
        return insert(
            annotations,
            **(defaults | extra),
            document_id=version.document_id,
            version_id=version.id,
            author_id=author,
            start=start,
            end=start + 5,
            exact=exact,
            body_markdown=body,
            body_html=html,
            classroom_id=classroom_id,
            created_at=now,
            updated_at=now,
        )

    ids = {}
    for index, (markdown, html) in enumerate(OLD_HTML.items()):
        ids[markdown] = annotation(ana, 10 * index, markdown, html, classroom)
    ids["bare"] = annotation(ana, 40, classroom_id=classroom)
    ids["bare_deleted"] = annotation(ana, 50, classroom_id=classroom, deleted_at=now)
    ids["bare_private"] = annotation(ana, 60)
    ids["bare_discussed"] = annotation(ana, 70, classroom_id=classroom)
    ids["bare_voted"] = annotation(ana, 80, classroom_id=classroom)
    ids["bare_pinned"] = annotation(ana, 90, classroom_id=classroom, pinned=True)
    ids["bare_question"] = annotation(ana, 100, classroom_id=classroom, is_question=True)
    ids["reply"] = insert(
        replies,
        annotation_id=ids["bare_discussed"],
        author_id=ben,
        body_markdown="data://example.com/,alert(1)",
        body_html=OLD_HTML["data://example.com/,alert(1)"],
        created_at=now,
        updated_at=now,
        hidden=False,
    )
    vote = {"annotation_id": ids["bare_voted"], "user_id": ben, "created_at": now}
    connection.execute(sa.insert(votes), vote)
    db.session.commit()
    ids["classroom"] = classroom
    return ids


def counts() -> tuple[int, ...]:
    return tuple(
        db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Annotation, Reply, Vote)
    )


def test_stored_notes_are_rendered_again_and_bare_highlights_made_private(app):
    upgrade(revision=before_mine())
    ids = legacy_data(app)
    rows_before = counts()
    db.session.remove()  # no read transaction (on SQLite, a snapshot) across the upgrade
    upgrade()
    for markdown, html in NEW_HTML.items():
        assert db.session.get(Annotation, ids[markdown]).body_html == html
    assert db.session.get(Reply, ids["reply"]).body_html == NEW_HTML["data://example.com/,alert(1)"]
    classroom_of = {
        name: db.session.get(Annotation, ids[name]).classroom_id
        for name in ids
        if name.startswith("bare")
    }
    moved = {"bare": None, "bare_deleted": None, "bare_private": None}
    kept = {
        name: ids["classroom"]
        for name in ("bare_discussed", "bare_voted", "bare_pinned", "bare_question")
    }
    assert classroom_of == {**moved, **kept}
    assert counts() == rows_before

    # Down and up again: nothing lost, nothing changed twice.
    db.session.remove()
    downgrade(revision=before_mine())
    assert counts() == rows_before
    db.session.remove()
    upgrade()
    assert (
        db.session.get(Annotation, ids["&amp;lt;b&amp;gt;"]).body_html
        == NEW_HTML["&amp;lt;b&amp;gt;"]
    )
    assert counts() == rows_before
