"""The e-mail sender behind `flask --app webapp send-mail`: one pass over the outbox.

A pass makes the due deadline reminders, queues recent notifications for e-mail, then
claims batches and sends them until nothing is due (webapp/services/outbox.py says how
claims keep several senders, on several hosts, from sending a message twice). Each
message is drawn when it is sent, so what changed meanwhile counts: a note hidden since,
settings changed since, an address removed since. No database transaction stays open
while the SMTP server is talked to.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import TypeVar

from flask import Flask, render_template, url_for

from webapp.database import write_intent
from webapp.extensions import db
from webapp.models import Notification, User, utcnow
from webapp.notifications.unsubscribe import make_token
from webapp.services import accounts, notifications, outbox, smtp

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Report:
    sent: int = 0
    skipped: int = 0
    retried: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return (
            f"sent {self.sent}, skipped {self.skipped}, "
            f"to retry {self.retried}, failed {self.failed}"
        )

    @property
    def busy(self) -> bool:
        return bool(self.sent or self.skipped or self.retried or self.failed)


@dataclass(frozen=True)
class Claimed:
    """A claimed row, read before its transaction ended (the objects expire at commit)."""

    id: int
    kind: str
    user_id: int
    notification_id: int | None
    attempts: int


def written(work: Callable[[], T]) -> T:
    """Run `work` in a write transaction of its own (on SQLite it takes the write lock up
    front, as requests that write do) and commit it."""
    write_intent.set(True)
    try:
        result = work()
        db.session.commit()
        return result
    except BaseException:
        db.session.rollback()
        raise
    finally:
        write_intent.set(False)


def send_pending(
    app: Flask, settings: smtp.SmtpSettings, base_url: str, now=None, batch: int = 20
) -> Report:
    """One pass: reminders and notifications queued, then every due message sent."""
    clock = (lambda: now) if now is not None else utcnow
    report = Report()

    def prepare() -> None:
        notifications.remind_deadlines(db.session, clock())
        outbox.queue_notifications(db.session, clock())
        outbox.expire_stale(db.session, clock())

    written(prepare)
    while True:
        claimed = written(
            lambda: [
                Claimed(m.id, m.kind, m.user_id, m.notification_id, m.attempts)
                for m in outbox.claim(db.session, clock(), batch)
            ]
        )
        if not claimed:
            return report
        for item in claimed:
            deliver(app, settings, base_url, item, report, clock)


def _record_failure(item: Claimed, reason: str, permanent: bool, now) -> None:
    written(lambda: outbox.mark_failed(db.session, item.id, item.attempts, now, reason, permanent))


def deliver(app, settings, base_url, item: Claimed, report: Report, clock) -> None:
    try:
        message = compose(app, settings, base_url, item)
    except Exception as error:  # a message that cannot be drawn must not stop the others
        log.exception("could not compose outbox message %s", item.id)
        db.session.rollback()
        _record_failure(item, repr(error), False, clock())
        report.retried += 1
        return
    db.session.commit()  # nothing stays open while the SMTP server answers
    if isinstance(message, str):
        written(lambda: outbox.mark_skipped(db.session, item.id, message))
        report.skipped += 1
        return
    try:
        smtp.send(settings, message)
    except smtp.PermanentFailure as error:
        _record_failure(item, str(error), True, clock())
        report.failed += 1
        log.warning("outbox message %s refused for good: %s", item.id, error)
    except Exception as error:  # unreachable, timed out, a 4xx: later
        _record_failure(item, repr(error), False, clock())
        report.retried += 1
        log.warning("outbox message %s not sent, will retry: %r", item.id, error)
    else:
        written(lambda: outbox.mark_sent(db.session, item.id, clock()))
        report.sent += 1


def compose(app, settings, base_url: str, item: Claimed) -> EmailMessage | str:
    """The message to send, or the reason (a string) not to send it any more."""
    user = db.session.get(User, item.user_id)
    if user is None or not user.email:
        return "the account has no e-mail address"
    with app.test_request_context(base_url=base_url.rstrip("/") + "/"):
        if item.kind == "notification":
            return notification_message(settings, user, item)
        if item.kind == "password_reset":
            return reset_message(settings, user, item)
        if item.kind == "reset_notice":
            return envelope(
                settings,
                item,
                user,
                "A password reset link was made for your Marginalia account",
                render_template("mail/reset_notice.txt", user=user),
            )
    return f"unknown kind of message {item.kind!r}"


def envelope(
    settings, item: Claimed, user: User, subject: str, text: str, unsubscribe: str | None = None
):
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = user.email
    message["Subject"] = " ".join(subject.split())[:200]
    message["Date"] = format_datetime(datetime.now(UTC))
    domain = settings.sender.rpartition("@")[2].strip("> ") or None
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    # Which outbox row it came from: duplicates (a sender that died after sending, before
    # recording it) can be told apart, and support can find it.
    message["X-Marginalia-Outbox"] = str(item.id)
    if unsubscribe:
        # RFC 8058: a mail client may offer "unsubscribe" and POST to this link in one click.
        message["List-Unsubscribe"] = f"<{unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text)
    return message


def notification_message(settings, user: User, item: Claimed) -> EmailMessage | str:
    found = db.session.get(Notification, item.notification_id)
    if found is None:
        return "the notification is gone"
    kind = notifications.kind_of(found)
    if not notifications.settings_of(db.session, user.id)[kind].email:
        return "e-mail is off for this kind"
    if not notifications.is_visible(db.session, user, found.id, in_app=False):
        return "what it is about is no longer visible to the recipient"
    document = notifications.document_of(found)
    link = (
        url_for(
            "reader.article",
            slug=document.slug,
            context=notifications.context_of(found),
            _anchor=f"annotation-{found.annotation_id}" if found.annotation_id else None,
            _external=True,
        )
        if document is not None
        else url_for("notifications.index", _external=True)
    )
    unsubscribe = url_for(
        "notifications.unsubscribe", token=make_token(user.id, kind), _external=True
    )
    text = render_template(
        "mail/notification.txt",
        user=user,
        notification=found,
        summary=notifications.summary(found),
        excerpt=notifications.excerpt(found, limit=2000),
        link=link,
        kind_label=notifications.KINDS[kind],
        unsubscribe=unsubscribe,
        settings_url=url_for("notifications.settings", _external=True),
    )
    return envelope(settings, item, user, notifications.summary(found), text, unsubscribe)


def reset_message(settings, user: User, item: Claimed) -> EmailMessage:
    # The token is made now, in the sender: the link never sits in the database.
    token = written(lambda: accounts.issue_reset(db.session, user, accounts.RESET_BY_EMAIL))
    user = db.session.get(User, user.id)
    text = render_template(
        "mail/password_reset.txt",
        user=user,
        link=url_for("account.reset", token=token, _external=True),
        hours=int(accounts.RESET_BY_EMAIL.total_seconds() // 3600),
    )
    return envelope(settings, item, user, "Set a new password for Marginalia", text)
