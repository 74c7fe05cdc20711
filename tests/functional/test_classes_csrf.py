"""CSRF on the class-life, moderation and group routes: without the token a write is
refused with the clear message and changes nothing; with the token from the page's own
form it goes through."""

from __future__ import annotations

import pytest
from flask import g

from tests.conftest import PASSWORD
from tests.functional.class_world import build_class_world
from tests.functional.helpers import csrf_from_hx_headers, page
from webapp.errors import CSRF_MESSAGE


@pytest.fixture
def app_config() -> dict:
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def world(db, client, seed_document):
    return build_class_world(db, client)


def token_of(form) -> str:
    return form.find("input", name="csrf_token").get("value")


def log_in(world, app, name: str):
    """A browser of their own, logged in through the form (with its token)."""
    # The requests run inside the test's app context, so they share its `g`, where
    # Flask-WTF keeps the token it made: a new browser (session) must not reuse it.
    g.pop("csrf_token", None)
    world.users[name].set_password(PASSWORD)
    world.db.session.commit()
    client = app.test_client()
    form = page(client.get("/login")).find("form", class_="auth-form")
    data = {"username": name, "password": PASSWORD, "csrf_token": token_of(form)}
    assert client.post("/login", data=data).status_code == 302
    world.client = client
    return client


def test_class_writes_need_the_token(world, app):
    # ann flags ben's note, with the token of the page's hx-headers
    client = log_in(world, app, "ann")
    token = csrf_from_hx_headers(page(client.get(world.url)))
    flag = f"/annotations/{world.notes['ben']}/flag"
    assert client.post(flag, data={"reason": "x"}).status_code == 400
    response = client.post(flag, data={"reason": "x"}, headers={"X-CSRFToken": token})
    assert response.status_code == 302

    client = log_in(world, app, "teacher")
    ann = world.users["ann"]
    posts = [
        (f"{world.url}/members/{ann.id}/role", {"role": "instructor"}),
        (f"{world.url}/rename", {"name": "Renamed"}),
        (f"{world.url}/archive", {}),
        (f"{world.url}/groups", {"name": "G"}),
        (f"{world.url}/groups/random", {"size": "2"}),
        (f"{world.url}/flags/review", {"annotation_id": world.notes["ben"], "outcome": "hidden"}),
        (f"{world.url}/leave", {}),
    ]
    for url, form in posts:
        response = client.post(url, data=form)
        assert response.status_code == 400, url
        assert CSRF_MESSAGE in page(response).text(), url
    assert world.role("ann") == "student" and world.classroom.name == "History 10"
    assert world.classroom.archived_at is None and not world.note("ben").hidden

    # with the token the page's forms carry
    root = page(client.get(world.url))
    form = root.find("form", action=f"{world.url}/rename")
    data = {"name": "Renamed", "csrf_token": token_of(form)}
    assert client.post(form.get("action"), data=data).status_code == 302
    assert world.classroom.name == "Renamed"
    queue = page(client.get(f"{world.url}/flags"))
    form = queue.find("form", class_="flag-review")
    data = {
        "csrf_token": token_of(form),
        "annotation_id": form.find("input", name="annotation_id").get("value"),
        "outcome": "hidden",
    }
    assert client.post(form.get("action"), data=data).status_code == 302
    assert world.note("ben").hidden
    client = log_in(world, app, "ann")
    leave = page(client.get(f"{world.url}/leave")).find("form", action=f"{world.url}/leave")
    response = client.post(leave.get("action"), data={"csrf_token": token_of(leave)})
    assert response.status_code == 302 and world.role("ann") is None
