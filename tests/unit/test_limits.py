"""The pure parts of the limits: the growing delay, the client's address key, and the one
form usernames are compared in."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from webapp.models import username_key
from webapp.services.limits import Backoff, client_key

NOW = datetime(2030, 1, 1, 12, 0, 0)


def test_backoff_is_free_then_doubles_up_to_its_cap():
    backoff = Backoff(free=3, cap=timedelta(seconds=10))
    waits = [backoff.wait(failures, NOW, NOW) for failures in range(8)]
    assert waits == [0, 0, 0, 1, 2, 4, 8, 10]


def test_backoff_counts_from_the_latest_failure():
    backoff = Backoff(free=1, cap=timedelta(minutes=15))
    assert backoff.wait(5, NOW - timedelta(seconds=10), NOW) == 6  # 16 s, 10 already waited
    assert backoff.wait(5, NOW - timedelta(seconds=20), NOW) == 0
    assert backoff.wait(0, None, NOW) == 0


def test_backoff_stays_finite_for_any_count():
    assert Backoff(free=0, cap=timedelta(minutes=1)).wait(10**6, NOW, NOW) == 60


@pytest.mark.parametrize(
    "address, key",
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),  # the same subscriber's /64
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("fe80::1%eth0", "fe80::/64"),
        ("", ""),
        (None, ""),
        ("not an address", "not an address"),
    ],
)
def test_client_key(address, key):
    assert client_key(address) == key


@pytest.mark.parametrize("typed", ["kate", "KATE", " Kate ", "\u212aate", "ｋａｔｅ", "kAtE"])
def test_username_key_is_one_form_for_every_spelling(typed):
    assert username_key(typed) == "kate"


def test_username_key_folds_beyond_lower():
    assert username_key("Straße") == username_key("STRASSE") == "strasse"
    assert username_key("ﬁne") == "fine"  # the ligature


def test_username_key_keeps_other_scripts_apart():
    assert username_key("kаte") != "kate"  # Cyrillic а: refused at sign-up instead
