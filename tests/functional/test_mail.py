"""E-mail, against a local SMTP server this test starts: notifications go out outside the
request, drawn when sent (what became hidden is not sent, settings count), with a one-click
unsubscribe (RFC 8058 headers, a link that works without logging in); deadline reminders
come from the sender's pass, once per student; failures retry later or fail for good; a
claim left by a sender that died is taken again after its lease; "forgot password" gives
the same answer for every name, is rate-limited, and mails a link that works once.

Time is passed to the sender (`now`), never slept through.
"""

# The fixtures come from test_discussion; using them as parameters is how pytest works.
# ruff: noqa: F811

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import PASSWORD
from tests.functional.helpers import page
from tests.functional.test_account import fresh_client, signed_in
from tests.functional.test_discussion import (  # noqa: F401 - fixtures
    as_,
    body_of,
    class_note,
    note,
    post,
    reply,
    room,
    text,
)
from tests.support.servers import free_port
from tests.support.smtp import SmtpServer
from webapp.models import Notification, OutboxMessage, User, utcnow
from webapp.notifications.mailer import send_pending
from webapp.services import outbox
from webapp.services.classes import assign
from webapp.services.smtp import SmtpSettings

BASE = "http://reading.example.org"
SENDER = "Marginalia <marginalia@example.org>"


@pytest.fixture
def smtp():
    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture
def app_config(smtp) -> dict:
    return {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": smtp.port,
        "SMTP_FROM": SENDER,
        "BASE_URL": BASE,
    }


@pytest.fixture
def settings(app) -> SmtpSettings:
    return SmtpSettings.from_config(app.config)


@pytest.fixture
def emails(db, room):
    """ann and ben have addresses (the teacher has none); the setup's notifications go."""
    for person in (room.ann, room.ben):
        db.session.get(User, person.id).email = f"{person.username}@example.org"
    db.session.execute(sa.delete(Notification))
    db.session.commit()


def run(app, settings, now=None, **kw):
    return send_pending(app, settings, BASE, now=now, **kw)


def rows(db) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def link_in(message, path: str) -> str:
    found = re.search(rf"{re.escape(BASE)}({re.escape(path)}[^\s>]*)", message.get_content())
    assert found, message.get_content()
    return found.group(1)


def test_a_reply_is_mailed_with_its_link_and_a_one_click_unsubscribe(
    app, as_, db, room, class_note, emails, smtp, settings, client
):
    reply(as_("ben"), class_note, "Because of *the base*.")
    assert smtp.inbox.messages == []  # not in the request
    report = run(app, settings)
    assert (report.sent, report.skipped) == (1, 0)
    [message] = smtp.inbox.messages
    assert message["To"] == "ann@example.org" and message["From"] == SENDER
    assert message["Subject"].startswith("ben replied to your note on “Russian Military")
    assert message["Auto-Submitted"] == "auto-generated"
    content = message.get_content()
    assert "> Because of *the base*." in content
    assert (
        f"{BASE}/articles/{class_note.document.slug}?context={room.key}#annotation-{class_note.id}"
        in content
    )
    unsubscribe = message["List-Unsubscribe"]
    assert unsubscribe.startswith(f"<{BASE}/unsubscribe/") and unsubscribe.endswith(">")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert [r.status for r in rows(db)] == ["sent"]
    assert run(app, settings).sent == 0  # sent once

    # The mail client's one click: a POST, no session, no CSRF token.
    app.config["WTF_CSRF_ENABLED"] = True
    path = unsubscribe[1:-1].removeprefix(BASE)
    response = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200, body_of(response)
    app.config["WTF_CSRF_ENABLED"] = False
    reply(as_("ben"), class_note, "Another one.")
    assert run(app, settings).skipped == 1
    assert len(smtp.inbox.messages) == 1
    # ...while the app still lists it, and other kinds still go out by e-mail.
    assert "Another one." in body_of(as_("ann").get("/notifications"))
    post(as_("teacher"), f"/annotations/{class_note.id}/pin", pinned="1")
    assert run(app, settings).sent == 1
    assert smtp.inbox.messages[-1]["Subject"].startswith("teacher, an instructor, pinned")


def test_nothing_is_mailed_to_someone_without_an_address_or_about_a_hidden_reply(
    app, as_, db, room, class_note, emails, smtp, settings
):
    reply(as_("ann"), class_note, "Ann on her own note.")  # tells nobody
    teachers = note(as_("teacher"), db, text_of(db), "Middle East", room.key, body="Region?")
    reply(as_("ann"), teachers, "An answer to the teacher.")  # the teacher has no address
    reply(as_("ben"), class_note, "Rude remark.")
    rude = db.session.scalar(sa.select(sa.func.max(OutboxMessage.id)))
    assert rude is None  # queued by the sender, not the request
    hide = post(as_("teacher"), f"/replies/{_last_reply_id(db)}/hide", hidden="1")
    assert hide.status_code == 200
    report = run(app, settings)
    assert (report.sent, report.skipped) == (0, 1)
    assert smtp.inbox.messages == []
    assert [r.last_error for r in rows(db)] == [
        "what it is about is no longer visible to the recipient"
    ]


def text_of(db) -> str:
    from tests.functional.helpers import current_version

    return current_version(db).text


def _last_reply_id(db) -> int:
    from webapp.models import Reply

    return db.session.scalar(sa.select(sa.func.max(Reply.id)))


def test_the_sender_makes_deadline_reminders_once_per_student(
    app, db, room, seed_document, emails, smtp, settings
):
    assign(db.session, room.classroom, seed_document, utcnow() + timedelta(hours=10))
    db.session.commit()
    assert run(app, settings).sent == 2
    assert run(app, settings).sent == 0
    assert sorted(m["To"] for m in smtp.inbox.messages) == ["ann@example.org", "ben@example.org"]
    assert all("is due within 24 hours" in m["Subject"] for m in smtp.inbox.messages)
    due = db.session.scalar(sa.select(Notification)).assignment.due_at
    assert f"Due: {due:%a %-d %b %Y, %H:%M} UTC" in smtp.inbox.messages[0].get_content()
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 2


def test_old_notifications_are_never_mailed(app, as_, db, room, class_note, emails, smtp, settings):
    reply(as_("ben"), class_note, "Long ago.")
    later = utcnow() + outbox.MAX_AGE + timedelta(minutes=1)
    assert run(app, settings, now=later).sent == 0
    assert smtp.inbox.messages == [] and rows(db) == []


def test_an_unreachable_server_is_tried_again_later_and_a_refusal_fails_for_good(
    app, as_, db, room, class_note, emails, smtp, settings
):
    reply(as_("ben"), class_note, "First.")
    now = utcnow()
    closed = SmtpSettings("127.0.0.1", free_port(), SENDER)
    assert run(app, closed, now=now).retried == 1
    [row] = rows(db)
    assert (row.status, row.attempts, row.claimed_until) == ("pending", 1, None)
    assert row.next_attempt_at == now + timedelta(minutes=1)
    assert run(app, settings, now=now + timedelta(seconds=30)).sent == 0  # not due yet
    assert run(app, settings, now=now + timedelta(minutes=1)).sent == 1
    assert rows(db)[0].status == "sent" and len(smtp.inbox.messages) == 1

    smtp.inbox.refuse = "550 5.1.1 No such mailbox"
    reply(as_("ben"), class_note, "Second.")
    assert run(app, settings).failed == 1
    assert rows(db)[1].status == "failed" and "550" in rows(db)[1].last_error
    assert run(app, settings, now=utcnow() + timedelta(hours=1)).failed == 0


def test_giving_up_after_too_many_attempts(app, as_, db, room, class_note, emails, settings):
    reply(as_("ben"), class_note, "Never arrives.")
    closed = SmtpSettings("127.0.0.1", free_port(), SENDER)
    now = utcnow()
    for _ in range(outbox.MAX_ATTEMPTS):
        run(app, closed, now=now)
        now += timedelta(hours=1)
    [row] = rows(db)
    assert (row.status, row.attempts) == ("failed", outbox.MAX_ATTEMPTS)


def test_a_claim_left_by_a_sender_that_died_is_taken_again_after_its_lease(
    app, as_, db, room, class_note, emails, smtp, settings
):
    reply(as_("ben"), class_note, "Claimed, then the sender died.")
    now = utcnow()
    outbox.queue_notifications(db.session, now)
    [claimed] = outbox.claim(db.session, now)  # a sender claims it...
    db.session.commit()  # ...and dies before sending
    assert run(app, settings, now=now + timedelta(minutes=1)).sent == 0
    assert run(app, settings, now=now + outbox.LEASE + timedelta(seconds=1)).sent == 1
    [message] = smtp.inbox.messages
    assert message["X-Marginalia-Outbox"] == str(claimed.id)


def test_smtp_login_when_configured(app, as_, db, room, class_note, emails):
    server = SmtpServer(credentials=("mailer", "s3cret"))
    try:
        reply(as_("ben"), class_note, "With a login.")
        wrong = SmtpSettings("127.0.0.1", server.port, SENDER, "mailer", "wrong")
        assert run(app, wrong).retried == 1  # a login refused is configuration: retried
        good = SmtpSettings("127.0.0.1", server.port, SENDER, "mailer", "s3cret")
        assert run(app, good, now=utcnow() + timedelta(minutes=2)).sent == 1
        assert server.inbox.authenticated == [True]
    finally:
        server.stop()


def test_the_send_mail_command(app, runner, as_, room, class_note, emails, smtp):
    reply(as_("ben"), class_note, "By the command.")
    result = runner.invoke(args=["send-mail", "--once"])
    assert result.exit_code == 0, result.output
    assert "sent 1, skipped 0, to retry 0, failed 0" in result.output
    assert len(smtp.inbox.messages) == 1
    app.config["SMTP_FROM"] = ""
    result = runner.invoke(args=["send-mail", "--once"])
    assert result.exit_code == 1 and "SMTP_FROM is not set" in result.output
    app.config["SMTP_HOST"] = ""
    result = runner.invoke(args=["send-mail", "--once"])
    assert result.exit_code == 1 and "SMTP_HOST is not set" in result.output


# --- accounts by e-mail --------------------------------------------------------------------------


def forgot(client, login: str, address: str = "198.51.100.7"):
    return client.post("/forgot", data={"login": login}, environ_base={"REMOTE_ADDR": address})


def test_forgot_password_answers_alike_and_mails_a_one_time_link(
    app, db, room, emails, smtp, settings
):
    answers = set()
    for login in ("ann", "ANN@example.org", "nobody", "nobody@example.org", "carl"):
        response = forgot(fresh_client(app), login, address=f"198.51.100.{len(answers) + 10}")
        assert response.status_code == 200
        answers.add(" ".join(page(response).find("p", role="status").text().split()))
    assert len(answers) == 1  # the same words, whether or not there is such an account
    assert [r.kind for r in rows(db)] == ["password_reset", "password_reset"]  # both ann's
    assert run(app, settings).sent == 2
    messages = smtp.inbox.to("ann@example.org")
    assert len(messages) == 2 and messages[0]["List-Unsubscribe"] is None
    first, latest = (link_in(m, "/reset/") for m in messages)
    assert fresh_client(app).get(first).status_code == 404  # replaced by the newer link
    visitor = fresh_client(app)
    new = "a fresh password"
    done = visitor.post(latest, data={"new_password": new, "confirm_password": new})
    assert done.status_code == 303 and signed_in(visitor) == "ann"
    assert fresh_client(app).get(latest).status_code == 404  # once
    db.session.expire_all()
    assert db.session.scalar(sa.select(User).where(User.username == "ann")).check_password(new)


def test_forgot_password_is_rate_limited_alike_for_every_name(app, db, room, emails):
    for login in ("ann", "nobody"):
        client = fresh_client(app)
        statuses = [forgot(client, login).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429], login
        limited = forgot(client, login)
        assert int(limited.headers["Retry-After"]) >= 1
        assert "Too many password reset requests" in page(limited).find("p", role="alert").text()
    assert len([r for r in rows(db) if r.kind == "password_reset"]) == 3


def test_an_instructors_reset_link_is_told_to_the_student_by_email(
    app, as_, db, room, emails, smtp, settings
):
    response = as_("teacher").post(f"/classes/{room.classroom.id}/members/{room.ann.id}/reset-link")
    assert response.status_code == 200
    link = page(response).by_id("reset-link").get("value")
    assert run(app, settings).sent == 1
    [notice] = smtp.inbox.to("ann@example.org")
    assert "password reset link" in notice["Subject"]
    assert link.rpartition("/")[2] not in notice.get_content()  # the notice, not the link


def test_forgot_password_form_is_labelled(app, client, room):
    root = page(client.get("/forgot"))
    form = root.find("form", action="/forgot")
    field = form.find("input", name="login")
    assert root.find("label", for_=field.get("id")) is not None
    empty = client.post("/forgot", data={"login": ""})
    assert empty.status_code == 400 and page(empty).find("p", role="alert") is not None


def test_account_settings_explain_what_the_address_is_for(as_, room):
    hint = page(as_("ann").get("/account")).by_id("email-hint").text()
    assert "forgotten password" in hint
    assert PASSWORD  # the forms need the password: see test_account
