"""Account settings: the e-mail address, changing the password (other sessions end),
one-time reset links an instructor makes for a student, and deleting an account with the
notes kept (anonymised) or deleted. (E-mail itself: test_mail.py.)"""

# The fixtures come from test_discussion; using them as parameters is how pytest works.
# ruff: noqa: F811

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import HTMX, PASSWORD
from tests.functional.helpers import page
from tests.functional.test_discussion import (  # noqa: F401 - fixtures
    FIRST,
    SECOND,
    PersonClient,
    as_,
    body_of,
    class_note,
    note,
    post,
    reply,
    room,
    text,
)
from webapp.models import (
    Annotation,
    Classroom,
    FailedAttempt,
    LoginSession,
    PasswordReset,
    Reply,
    User,
    Vote,
)
from webapp.services.accounts import FORMER_MEMBER

NEW_PASSWORD = "a brand new passphrase"


def fresh_client(app) -> PersonClient:
    return PersonClient(app, app.response_class, use_cookies=True)


def log_in(app, username: str, password: str = PASSWORD):
    client = fresh_client(app)
    response = client.post("/login", data={"username": username, "password": password})
    return client, response


def signed_in(client) -> str | None:
    whoami = page(client.get("/")).find("span", class_="whoami")
    return whoami.find("strong").text() if whoami else None


def alert(response) -> str:
    found = page(response).find("p", role="alert")
    assert found is not None, body_of(response)
    return found.text()


def user(db, name: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.username == name))


# --- the settings page -----------------------------------------------------------------------


def test_the_account_page_has_labelled_forms(as_, room):
    root = page(as_("ann").get("/account"))
    for form_action in ("/account/email", "/account/password"):
        form = root.find("form", action=form_action)
        assert form is not None
        for field in form.find_all("input"):
            if field.get("type") == "hidden":
                continue
            assert root.find("label", for_=field.get("id")) is not None, field.attrs
    assert root.find("a", href="/account/delete") is not None
    assert root.find("a", href="/account").get("aria-current") == "page"


def test_anonymous_visitors_are_sent_to_log_in(client):
    for url in ("/account", "/account/delete", "/notifications", "/notifications/settings"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    for url in (
        "/account/email",
        "/account/password",
        "/account/delete",
        "/notifications/settings",
        "/notifications/read",
        "/notifications/1/read",
        "/classes/1/members/1/reset-link",
    ):
        assert client.post(url).status_code == 401, url


# --- e-mail address --------------------------------------------------------------------------


def test_set_change_and_remove_the_email_address(as_, db, room):
    ann = as_("ann")
    response = ann.post("/account/email", data={"email": " Ann@Example.ORG ", "password": PASSWORD})
    assert response.status_code == 303
    assert user(db, "ann").email == "ann@example.org"
    assert "ann@example.org" in body_of(ann.get("/account"))
    ann.post("/account/email", data={"email": "", "password": PASSWORD})
    assert user(db, "ann").email is None


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("not-an-address", PASSWORD, "not an e-mail address"),
        ("a@b", PASSWORD, "not an e-mail address"),
        # A header would read these as two addresses, or a name.
        ("a,b@example.org", PASSWORD, "not an e-mail address"),
        ("Ann <ann@example.org>", PASSWORD, "not an e-mail address"),
        ("x" * 250 + "@example.org", PASSWORD, "not an e-mail address"),
        ("ann@example.org", "wrong password", "not your current password"),
    ],
)
def test_a_bad_address_or_password_is_refused_and_says_why(as_, db, room, email, password, message):
    response = as_("ann").post("/account/email", data={"email": email, "password": password})
    assert response.status_code == 400
    assert message in alert(response)
    assert user(db, "ann").email is None
    field = page(response).by_id("email-address")
    assert "email-error" in field.get("aria-describedby")


# --- changing the password -------------------------------------------------------------------


def test_change_password_needs_the_current_one_and_ends_other_sessions(app, db, room):
    here, _ = log_in(app, "ann")
    elsewhere, _ = log_in(app, "ann")
    assert signed_in(elsewhere) == "ann"
    form = {
        "current_password": "wrong",
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
    }
    response = here.post("/account/password", data=form)
    assert response.status_code == 400 and "not your current password" in alert(response)
    form["current_password"] = PASSWORD
    response = here.post("/account/password", data={**form, "confirm_password": "different"})
    assert response.status_code == 400 and "differ" in alert(response)
    response = here.post(
        "/account/password", data={**form, "new_password": "short", "confirm_password": "short"}
    )
    assert response.status_code == 400 and "at least 8" in alert(response)
    assert user(db, "ann").check_password(PASSWORD)

    response = here.post("/account/password", data=form)
    assert response.status_code == 303, body_of(response)
    assert signed_in(here) == "ann"  # this session stays
    assert signed_in(elsewhere) is None  # every other one ended
    assert (
        db.session.scalar(
            sa.select(sa.func.count(LoginSession.id)).where(LoginSession.user_id == room.ann.id)
        )
        == 1
    )
    assert log_in(app, "ann", PASSWORD)[1].status_code == 400
    assert log_in(app, "ann", NEW_PASSWORD)[1].status_code == 302


def test_guessing_the_current_password_meets_the_login_limits(app, db, room):
    client, _ = log_in(app, "ann")
    form = {
        "current_password": "wrong",
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
    }
    statuses = [client.post("/account/password", data=form).status_code for _ in range(5)]
    assert statuses == [400] * 5
    # The sixth guess must wait 1 s after the fifth: as if it came at once, however long
    # this machine took (the failures are moved later, not the clock).
    for attempt in db.session.scalars(sa.select(FailedAttempt)):
        attempt.at += timedelta(seconds=30)
    db.session.commit()
    assert client.post("/account/password", data=form).status_code == 429
    limited = client.post("/account/password", data={**form, "current_password": PASSWORD})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert user(db, "ann").check_password(PASSWORD)


# --- reset links by an instructor ---------------------------------------------------------------


def reset_link(response) -> str:
    field = page(response).by_id("reset-link")
    assert field is not None, body_of(response)
    return re.sub(r"^http://localhost", "", field.get("value"))


def issue(client, room, student) -> object:
    return client.post(f"/classes/{room.classroom.id}/members/{student.id}/reset-link")


def test_an_instructor_makes_a_one_time_link_for_a_student(app, as_, db, room):
    elsewhere, _ = log_in(app, "ann")
    response = issue(as_("teacher"), room, room.ann)
    assert response.status_code == 200, body_of(response)
    assert response.headers["Cache-Control"] == "no-store"
    link = reset_link(response)
    assert link.startswith("/reset/")
    reset = db.session.scalar(sa.select(PasswordReset))
    assert reset.user_id == room.ann.id and reset.issued_by_id == room.teacher.id
    assert link.rpartition("/")[2] not in (reset.token_hash,)  # only a hash is kept
    assert timedelta(hours=23) < reset.expires_at - reset.created_at <= timedelta(hours=24)

    visitor = fresh_client(app)
    form = page(visitor.get(link)).find("form", class_="auth-form")
    assert form is not None and "ann" in body_of(visitor.get(link))
    mismatch = visitor.post(link, data={"new_password": NEW_PASSWORD, "confirm_password": "x"})
    assert mismatch.status_code == 400 and "differ" in alert(mismatch)
    done = visitor.post(link, data={"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert done.status_code == 303, body_of(done)
    assert signed_in(visitor) == "ann"  # logged in with it
    assert signed_in(elsewhere) is None  # and every earlier session ended
    assert user(db, "ann").check_password(NEW_PASSWORD)
    # Single use.
    again = fresh_client(app).get(link)
    assert again.status_code == 404 and "does not work" in alert(again)
    reused = fresh_client(app).post(
        link, data={"new_password": "x" * 9, "confirm_password": "x" * 9}
    )
    assert reused.status_code == 404
    assert user(db, "ann").check_password(NEW_PASSWORD)


def test_a_reset_link_expires_and_a_newer_one_replaces_it(app, as_, db, room):
    first = reset_link(issue(as_("teacher"), room, room.ann))
    second = reset_link(issue(as_("teacher"), room, room.ann))
    assert fresh_client(app).get(first).status_code == 404
    assert fresh_client(app).get(second).status_code == 200
    reset = db.session.scalar(sa.select(PasswordReset).where(PasswordReset.used_at.is_(None)))
    reset.expires_at = reset.created_at - timedelta(seconds=1)
    db.session.commit()
    assert fresh_client(app).get(second).status_code == 404


def test_changing_the_password_cancels_open_reset_links(app, as_, db, room):
    link = reset_link(issue(as_("teacher"), room, room.ann))
    as_("ann").post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert fresh_client(app).get(link).status_code == 404


def test_only_an_instructor_of_the_class_makes_links_and_only_for_its_students(
    app, as_, db, room, client
):
    assert issue(as_("ben"), room, room.ann).status_code == 404  # a student
    assert issue(as_("carl"), room, room.ann).status_code == 404  # not a member
    assert issue(as_("teacher"), room, room.carl).status_code == 404  # not in the class
    assert issue(as_("teacher"), room, room.teacher).status_code == 404  # oneself
    assert issue(client, room, room.ann).status_code == 401
    other = as_("carl").post("/classes", data={"name": "Carl's class"})
    assert other.status_code == 302
    # carl teaches a class, but not ann's.
    assert issue(as_("carl"), room, room.ann).status_code == 404
    # An instructor is no student: a co-instructor cannot take over another instructor.
    assert db.session.scalar(sa.select(sa.func.count(PasswordReset.id))) == 0


def test_the_class_page_offers_reset_links_to_instructors_only(as_, room):
    button = f"/classes/{room.classroom.id}/members/{room.ann.id}/reset-link"
    assert page(as_("teacher").get(f"/classes/{room.classroom.id}")).find("form", action=button)
    assert page(as_("ben").get(f"/classes/{room.classroom.id}")).find("form", action=button) is None


def test_forgot_password_without_email_explains_and_sends_nothing(client, db):
    response = client.get("/forgot")
    assert response.status_code == 200
    assert "does not send e-mail" in page(response).find("main").text()
    assert page(response).find("form", action="/forgot") is None
    assert client.post("/forgot", data={"login": "ann"}).status_code == 404
    assert page(client.get("/login")).find("a", href="/forgot") is not None


# --- deleting the account -----------------------------------------------------------------------


def delete(client, notes: str, password: str = PASSWORD, confirm: str = "yes"):
    return client.post(
        "/account/delete", data={"notes": notes, "password": password, "confirm": confirm}
    )


@pytest.fixture
def discussion(as_, db, room, text, class_note):
    """ann's class note with ben's reply and ann's answer, a private note of ann's, a reply
    by ann under ben's note, ben's upvote on ann's note."""
    reply(as_("ben"), class_note, "Ben replies to Ann.")
    reply(as_("ann"), class_note, "Ann answers Ben.")
    bens = note(as_("ben"), db, text, SECOND, room.key, body="Ben's own note")
    reply(as_("ann"), bens, "Ann under Ben's note.")
    note(as_("ann"), db, text, "Middle East", "private", body="Ann's private thought")
    post(as_("ben"), f"/annotations/{class_note.id}/vote")
    post(as_("ann"), f"/annotations/{bens.id}/vote")
    return {"class_note": class_note.id, "bens_note": bens.id}


def test_deleting_asks_for_choice_confirmation_and_password(as_, db, room, discussion):
    ann = as_("ann")
    root = page(ann.get("/account/delete"))
    assert {i.get("value") for i in root.find_all("input", type="radio")} == {"keep", "delete"}
    assert root.find("label", for_="delete-password") is not None
    for data, message in (
        ({"notes": "", "password": PASSWORD, "confirm": "yes"}, "Choose what becomes"),
        ({"notes": "keep", "password": PASSWORD, "confirm": ""}, "Tick the box"),
        ({"notes": "keep", "password": "wrong", "confirm": "yes"}, "not your current password"),
    ):
        response = ann.post("/account/delete", data=data)
        assert response.status_code == 400 and message in alert(response)
    assert user(db, "ann") is not None


def test_delete_keeping_notes_anonymises_them(app, as_, db, room, discussion):
    elsewhere, _ = log_in(app, "ann")
    response = delete(as_("ann"), "keep")
    assert response.status_code == 303, body_of(response)
    assert user(db, "ann") is None
    assert signed_in(elsewhere) is None
    assert log_in(app, "ann")[1].status_code == 400
    former = user(db, FORMER_MEMBER)
    kept = db.session.get(Annotation, discussion["class_note"])
    assert kept.author_id == former.id and kept.body_markdown == "Why *long term*?"
    texts = {r.body_markdown: r.author_id for r in db.session.scalars(sa.select(Reply))}
    assert texts["Ann answers Ben."] == former.id
    assert texts["Ann under Ben's note."] == former.id
    assert texts["Ben replies to Ann."] == room.ben.id
    # Private notes go; so do votes and login sessions; nobody can log in as the placeholder.
    assert "Ann's private thought" not in {
        a.body_markdown for a in db.session.scalars(sa.select(Annotation))
    }
    assert log_in(app, FORMER_MEMBER, "")[1].status_code == 400
    # The class reads the note as by "a former member".
    page_text = body_of(as_("ben").get(f"/articles/{kept.document.slug}?context={room.key}"))
    assert "Why <em>long term</em>?" in page_text and FORMER_MEMBER in page_text
    assert ">ann<" not in page_text


def test_delete_with_notes_erases_them_and_keeps_others_threads(as_, db, room, discussion):
    assert delete(as_("ann"), "delete").status_code == 303
    db.session.expire_all()
    former = user(db, FORMER_MEMBER)
    gone = db.session.get(Annotation, discussion["class_note"])
    assert gone.deleted_at is not None and gone.body_markdown == "" and gone.author_id == former.id
    replies = db.session.scalars(sa.select(Reply).order_by(Reply.id)).all()
    assert [(r.body_markdown, r.deleted_at is None) for r in replies] == [
        ("Ben replies to Ann.", True),
        ("", False),
        ("", False),
    ]
    # ben's thread stays on the page (his reply under the deleted note, his own note).
    body = body_of(as_("ben").get(f"/articles/{gone.document.slug}?context={room.key}"))
    assert "Ben replies to Ann." in body and "This note was deleted" in body
    assert "Ben's own note" in body
    for gone_text in ("Why *long term*", "Ann answers Ben.", "Ann under Ben's note."):
        assert gone_text not in body
    # ann's vote went with her; ben's notification of her (erased) reply is out of sight.
    assert set(db.session.scalars(sa.select(Vote.user_id))) == {room.ben.id}
    notices = page(as_("ben").get("/notifications")).find_all("li", class_="notification unread")
    assert [n for n in notices if "replied" in n.text()] == []


def test_the_only_instructor_of_a_class_with_students_cannot_delete(as_, db, room):
    response = delete(as_("teacher"), "keep")
    assert response.status_code == 400
    assert room.classroom.name in alert(response)
    assert user(db, "teacher") is not None


def test_a_class_one_is_alone_in_goes_with_the_account(as_, db, room):
    as_("carl").post("/classes", data={"name": "Carl alone"})
    assert delete(as_("carl"), "delete").status_code == 303
    db.session.expire_all()
    names = set(db.session.scalars(sa.select(Classroom.name)))
    assert "Carl alone" not in names and room.classroom.name in names


def test_htmx_get_of_the_account_pages_is_the_block(as_, room):
    for url in ("/account", "/account/delete", "/notifications/settings"):
        response = as_("ann").get(url, headers=HTMX)
        assert response.status_code == 200 and "<html" not in body_of(response)
