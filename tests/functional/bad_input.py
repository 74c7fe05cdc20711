"""Ids out of the columns' range and control characters, from every way into the app.

The same checks run on SQLite (test_bad_input.py) and on PostgreSQL
(test_postgres_input.py), where an id of 2**31 in a query and a NUL in a text are
database errors: every answer must be a 4xx (or, for a value whose control characters are
dropped, the normal answer), never a 500.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote

import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.conftest import HTMX, PASSWORD, SEED_SLUG
from webapp.extensions import db
from webapp.models import Annotation, ClassGroup, Classroom, Document, Flag, Reply, User
from webapp.routing import MAX_ROW_ID
from webapp.services.accounts import create_user
from webapp.services.annotations import create_annotation
from webapp.services.classes import assign, create_class, join_class
from webapp.services.discussion import add_reply
from webapp.services.groups import create_group

BIG = str(MAX_ROW_ID + 1)  # 2147483648: one past PostgreSQL's INTEGER
PHRASE = "Hmeimim military base"


@contextmanager
def database(app: Flask) -> Iterator[Session]:
    """The app's session, fresh from the database. Inside the SQLite tests' app context
    that is the session requests use (a second one would wait for its write lock)."""
    if has_app_context() and current_app._get_current_object() is app:
        db.session.expire_all()
        yield db.session
        return
    with app.app_context():
        yield db.session


@dataclass
class Site:
    """An app with a class (teacher, ann), an assigned article, ann's class note with the
    teacher's reply, ann's private note."""

    app: Flask
    slug: str
    classroom_id: int
    join_code: str
    assignment_id: int
    annotation_id: int
    reply_id: int
    teacher_id: int
    ann_id: int
    selection: dict[str, str]
    group_id: int

    def ids(self) -> dict[str, object]:
        """A valid value for every URL argument."""
        return {
            "slug": self.slug,
            "code": self.join_code,
            "classroom_id": self.classroom_id,
            "annotation_id": self.annotation_id,
            "reply_id": self.reply_id,
            "user_id": self.ann_id,
            "assignment_id": self.assignment_id,
            "group_id": self.group_id,
        }

    def client(self, username: str | None = None) -> FlaskClient:
        """A client of its own, logged in as `username` (None: logged out)."""
        client = self.app.test_client()
        if username is not None:
            response = client.post("/login", data={"username": username, "password": PASSWORD})
            assert response.status_code == 302, response.get_data(as_text=True)
        return client


def build_site(app: Flask) -> Site:
    """The data of a Site, written through the services (the database is migrated and
    seeded already)."""
    with database(app) as session:
        teacher = create_user(session, "teacher", PASSWORD)
        ann = create_user(session, "ann", PASSWORD)
        classroom = create_class(session, teacher, "Reading group")
        join_class(session, ann, classroom.join_code)
        document = session.scalar(sa.select(Document).where(Document.slug == SEED_SLUG))
        version = document.current_version
        assignment = assign(session, classroom, document, None)
        start = version.text.index(PHRASE)
        selection = {"start": str(start), "end": str(start + len(PHRASE)), "exact": PHRASE}
        note = create_annotation(
            session,
            ann,
            version,
            {**selection, "body": "Why here?", "audience": f"class-{classroom.id}"},
        )
        create_annotation(session, ann, version, {**selection, "audience": "private"})
        reply = add_reply(session, teacher, note, "Because of the port.", None)
        group = create_group(session, classroom, "Group 1")
        session.commit()
        return Site(
            app=app,
            slug=SEED_SLUG,
            classroom_id=classroom.id,
            join_code=classroom.join_code,
            assignment_id=assignment.id,
            annotation_id=note.id,
            reply_id=reply.id,
            teacher_id=teacher.id,
            ann_id=ann.id,
            selection=selection,
            group_id=group.id,
        )


def body_of(response) -> str:
    return response.get_data(as_text=True)


# --- ids ------------------------------------------------------------------------------------

ID_ARGUMENT = re.compile(r"<id:(\w+)>")


def id_urls(site: Site, value: str) -> list[tuple[str, str]]:
    """(method, URL) for every route with an id in its path, that id set to `value` in
    turn; found in the URL map, so a new route is covered without being listed."""
    urls = []
    for rule in site.app.url_map.iter_rules():
        for name in ID_ARGUMENT.findall(rule.rule):
            values = {**site.ids(), name: value}
            missing = rule.arguments - values.keys()
            assert not missing, f"{rule.rule}: add a value for {missing} to Site.ids()"
            url = rule.rule
            for argument in rule.arguments:
                url = re.sub(rf"<(?:\w+:)?{argument}>", str(values[argument]), url)
            urls += [(method, url) for method in sorted(rule.methods & {"GET", "POST"})]
    return urls


def check_ids_in_urls(site: Site) -> None:
    """An id past the columns' range in a URL is a 404 (the route does not match), logged
    in or out; the largest id in range reaches the view and is an ordinary answer."""
    assert id_urls(site, BIG), "no route has an id in its path"
    for who in (None, "teacher", "ann"):
        client = site.client(who)
        for method, url in id_urls(site, BIG):
            for headers in ({}, HTMX):
                response = client.open(url, method=method, headers=headers)
                assert response.status_code == 404, (who, method, url, body_of(response))
        for method, url in id_urls(site, str(MAX_ROW_ID)):
            response = client.open(url, method=method, headers=HTMX)
            assert response.status_code < 500, (who, method, url, body_of(response))


def id_cases(site: Site) -> list[tuple[str, str, dict[str, str]]]:
    """(method, URL, form) with an out-of-range id in a query string or a form field."""
    article = f"/articles/{site.slug}"
    note = f"/annotations/{site.annotation_id}"
    classroom = f"/classes/{site.classroom_id}"
    context = f"class-{BIG}"
    selection = site.selection
    return [
        ("GET", f"{article}?context={context}", {}),
        ("GET", f"{article}/cards?context={context}", {}),
        ("GET", f"{article}/changes?cursor=0&context={context}", {}),
        ("GET", f"{article}/changes?cursor={BIG}", {}),
        ("GET", f"{article}?student={BIG}", {}),
        ("GET", f"{article}?offset={BIG}", {}),
        ("GET", f"{article}/cards?offset={BIG}", {}),
        ("GET", f"{article}/cards?through={BIG}", {}),
        ("GET", f"{note}?context={context}", {}),
        ("GET", f"{classroom}/participation?assignment={BIG}", {}),
        ("GET", f"{classroom}/participation.csv?assignment={BIG}", {}),
        ("POST", f"{article}/annotations", {**selection, "audience": context}),
        ("POST", f"{article}/annotations", {**selection, "context": context}),
        ("POST", f"{classroom}/assignments", {"document_id": BIG}),
        ("POST", f"{note}/replies", {"body": "Yes.", "parent_id": BIG}),
        ("POST", f"{note}/flag", {"reply_id": BIG}),
        ("POST", f"{classroom}/flags/review", {"annotation_id": BIG, "outcome": "kept"}),
        (
            "POST",
            f"{classroom}/flags/review",
            {"annotation_id": str(site.annotation_id), "reply_id": BIG, "outcome": "hidden"},
        ),
        ("POST", f"{classroom}/groups/place", {"user_id": BIG, "group_id": str(site.group_id)}),
        ("POST", f"{classroom}/groups/place", {"user_id": str(site.ann_id), "group_id": BIG}),
        ("POST", f"{classroom}/groups/random", {"size": BIG}),
    ]


def check_ids_in_queries_and_forms(site: Site) -> None:
    """An out-of-range id in a query or a form is a 4xx, logged in or out, and saves
    nothing."""
    before = counts(site)
    for who in (None, "teacher", "ann"):
        client = site.client(who)
        for method, url, form in id_cases(site):
            response = client.open(url, method=method, data=form, headers=HTMX)
            assert 400 <= response.status_code < 500, (who, url, form, body_of(response))
            response = client.open(url, method=method, data=form)
            assert response.status_code < 500, (who, url, form, body_of(response))
    assert counts(site) == before


def check_a_session_with_an_out_of_range_user_id(site: Site) -> None:
    """A session cookie naming a user id past the range is a logged-out visitor."""
    client = site.client()
    with client.session_transaction() as session:
        session["_user_id"] = BIG
        session["_fresh"] = True
    response = client.get("/")
    assert response.status_code == 200, body_of(response)
    assert "Log in" in body_of(response)


def counts(site: Site) -> tuple[int, ...]:
    with database(site.app) as session:
        return tuple(
            session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Annotation, Reply, Classroom, User)
        )


# --- control characters ---------------------------------------------------------------------

NUL = "\x00"


def check_control_characters_in_the_path(site: Site) -> None:
    """A NUL (or another control character) in a URL path is a 400, logged in or out."""
    paths = [
        "/articles/%00",
        f"/articles/{site.slug}%00",
        "/articles/%00/cards",
        "/join/%00",
        "/join/%07ABC",
        "/api/articles/%00/annotations",
        "/classes/%00",
        "/%00",
    ]
    for who in (None, "teacher"):
        client = site.client(who)
        for path in paths:
            for method in ("GET", "POST"):
                for headers in ({}, HTMX):
                    response = client.open(path, method=method, headers=headers)
                    assert response.status_code == 400, (who, method, path, body_of(response))
                    assert "control character" in body_of(response)


def check_control_characters_in_queries(site: Site) -> None:
    """Control characters in a query string are dropped: the page is the one without."""
    article = f"/articles/{site.slug}"
    for who in (None, "teacher"):
        client = site.client(who)
        for query in ("q=%00", "tag=%00", "context=%00", "filter=%00", "sort=%00everyone"):
            response = client.get(f"{article}?{query}", headers=HTMX)
            assert response.status_code < 500, (who, query, body_of(response))
        response = client.get(f"{article}?filter=mine%00")
        assert response.status_code == 200, body_of(response)
        response = client.get(f"{article}/changes?cursor=1%00&context=private%07")
        assert response.status_code == 204, body_of(response)
    response = site.client().get(f"/login?next={quote('/classes' + NUL)}")
    assert response.status_code == 200, body_of(response)


def check_control_characters_in_forms(site: Site) -> None:
    """Control characters in form fields are dropped before any code sees them (as a
    comment's always were): what is left is validated and saved as usual."""
    anonymous = site.client()
    # Nothing but a NUL is an empty field: the usual message.
    response = anonymous.post("/login", data={"username": NUL, "password": PASSWORD})
    assert response.status_code == 400, body_of(response)
    response = anonymous.post("/signup", data={"username": NUL * 4, "password": PASSWORD})
    assert response.status_code == 400, body_of(response)
    # A NUL inside a username is not part of it.
    response = site.client().post("/login", data={"username": f"an{NUL}n", "password": PASSWORD})
    assert response.status_code == 302, body_of(response)
    response = site.client().post(
        "/signup", data={"username": f"new{NUL}reader\x1b", "password": PASSWORD}
    )
    assert response.status_code == 302, body_of(response)

    teacher = site.client("teacher")
    response = teacher.post("/classes", data={"name": NUL}, headers=HTMX)
    assert response.status_code == 400, body_of(response)
    assert "Give the class a name" in body_of(response)
    response = teacher.post("/classes", data={"name": f"Bio{NUL}logy\x7f"})
    assert response.status_code == 302, body_of(response)
    response = teacher.post("/classes/join", data={"code": NUL}, headers=HTMX)
    assert response.status_code == 400, body_of(response)
    note = f"/annotations/{site.annotation_id}"
    response = site.client("ann").post(
        f"{note}/flag", data={"reason": f"Rude{NUL}", "reply_id": f"{site.reply_id}{NUL}"}
    )
    assert response.status_code == 302, body_of(response)
    reason = f"Off{NUL} topic\x08"
    response = teacher.post(f"{note}/hide", data={"hidden": "1", "reason": reason}, headers=HTMX)
    assert response.status_code == 200, body_of(response)
    response = teacher.post(
        f"/replies/{site.reply_id}/hide", data={"hidden": "1", "reason": reason}, headers=HTMX
    )
    assert response.status_code == 200, body_of(response)
    fields = {
        **site.selection,
        "intent": "comment",
        "body": f"A{NUL}B",
        "tags": f"war{NUL}time",
        "audience": f"class-{site.classroom_id}{NUL}",
    }
    response = teacher.post(f"/articles/{site.slug}/annotations", data=fields, headers=HTMX)
    assert response.status_code == 200, body_of(response)
    classroom = f"/classes/{site.classroom_id}"
    response = teacher.post(f"{classroom}/rename", data={"name": NUL}, headers=HTMX)
    assert response.status_code == 400, body_of(response)
    response = teacher.post(f"{classroom}/groups", data={"name": f"Blue{NUL} team"})
    assert response.status_code == 302, body_of(response)
    review = {
        "annotation_id": f"{site.annotation_id}{NUL}",
        "reply_id": f"{site.reply_id}",
        "outcome": f"hidden{NUL}",
        "reason": f"Rude{NUL}",
    }
    response = teacher.post(f"{classroom}/flags/review", data=review)
    assert response.status_code == 302, body_of(response)

    with database(site.app) as session:
        assert session.scalar(sa.select(User.id).where(User.username == "newreader"))
        assert session.scalar(sa.select(Classroom.id).where(Classroom.name == "Biology"))
        assert session.get(Annotation, site.annotation_id).hidden_reason == "Off topic"
        assert session.get(Reply, site.reply_id).hidden_reason == "Off topic"
        assert session.scalar(sa.select(Flag.reason)) == "Rude"
        assert session.scalar(sa.select(Flag.outcome)) == "hidden"
        assert session.scalar(sa.select(ClassGroup.name).order_by(ClassGroup.id.desc())) == (
            "Blue team"
        )
        latest = session.scalar(sa.select(Annotation).order_by(Annotation.id.desc()))
        assert (latest.body_markdown, latest.classroom_id) == ("AB", site.classroom_id)
        assert [tag.name for tag in latest.tags] == ["wartime"]
