"""Notifications, accounts, e-mail and exports on a real PostgreSQL: the same tests as on
SQLite (imported from their modules), on a throw-away database each. What differs there:
upserts that skip duplicates, strict foreign keys when an account is deleted, claims
with FOR UPDATE SKIP LOCKED, string concatenation in the reminder query."""

# The fixtures and tests come from the modules named; importing them is how they run here.
# ruff: noqa: F401, F811

from __future__ import annotations

import pytest

from tests.functional.test_account import (
    discussion,
    test_an_instructor_makes_a_one_time_link_for_a_student,
    test_change_password_needs_the_current_one_and_ends_other_sessions,
    test_delete_keeping_notes_anonymises_them,
    test_delete_with_notes_erases_them_and_keeps_others_threads,
)
from tests.functional.test_discussion import as_, class_note, room, text
from tests.functional.test_exports import (
    test_markdown_holds_my_notes_in_order_with_their_replies,
    test_w3c_export_carries_tags_questions_replies_and_the_class,
)
from tests.functional.test_mail import (
    emails,
    settings,
    smtp,
    test_a_claim_left_by_a_sender_that_died_is_taken_again_after_its_lease,
    test_a_reply_is_mailed_with_its_link_and_a_one_click_unsubscribe,
    test_forgot_password_answers_alike_and_mails_a_one_time_link,
    test_the_sender_makes_deadline_reminders_once_per_student,
)
from tests.functional.test_notifications import (
    _without_the_setups_notifications,
    test_a_deadline_within_24_hours_reminds_each_student_once,
    test_a_notification_leaves_the_list_when_its_reply_is_hidden_or_deleted,
    test_answered_and_pinned_tell_the_author_once,
    test_mark_one_read_over_htmx_updates_the_list_and_the_header,
)
from tests.support.postgres import postgres_app

MAIL_TESTS = {
    "test_a_claim_left_by_a_sender_that_died_is_taken_again_after_its_lease",
    "test_a_reply_is_mailed_with_its_link_and_a_one_click_unsubscribe",
    "test_forgot_password_answers_alike_and_mails_a_one_time_link",
    "test_the_sender_makes_deadline_reminders_once_per_student",
}


@pytest.fixture
def app_config(request) -> dict:
    """The mail tests' SMTP settings, for those tests only."""
    if request.node.originalname not in MAIL_TESTS:
        return {}
    server = request.getfixturevalue("smtp")
    return {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": server.port,
        "SMTP_FROM": "Marginalia <marginalia@example.org>",
        "BASE_URL": "http://reading.example.org",
    }


@pytest.fixture
def app(tmp_path, app_config):
    with postgres_app(tmp_path, **app_config) as app:
        yield app
