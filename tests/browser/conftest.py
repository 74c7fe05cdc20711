"""Browser fixtures: the real app under gunicorn on a free loopback port, and Debian's chromium."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.conftest import PASSWORD, SEED_SLUG
from tests.support.servers import LiveServer, free_port  # noqa: F401 - bench.py imports them here

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# A test article in the seed's shape with characters outside the Basic Multilingual Plane.
EMOJI_ARTICLE = """# Celebrations 🎉 in the Margins

By [Test Desk](#)

March 3, 2024

The class cheered 🎉 when the 𝔐arginalia demo worked, and everyone clapped 👏🏽 twice.

A second paragraph follows with plain words, so that selections can cross blocks.

Original url:

<https://example.org/celebrations>
"""
EMOJI_SLUG = "celebrations-in-the-margins"


# Generous waits, so a loaded machine is slow but never wrong: every wait is on a
# condition, and these only bound how long a condition may take to become true.
ACTION_TIMEOUT_MS = 60_000
EXPECT_TIMEOUT_MS = 30_000


@pytest.fixture(scope="session", autouse=True)
def patient_expectations():
    from playwright.sync_api import expect

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("live"), extra_seeds={"emoji.md": EMOJI_ARTICLE})
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield PatientBrowser(browser)
        browser.close()


class PatientBrowser:
    """The browser, whose every new context waits up to ACTION_TIMEOUT_MS per action."""

    def __init__(self, browser):
        self._browser = browser

    def new_context(self, **options):
        context = self._browser.new_context(**options)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        return context

    def __getattr__(self, name):
        return getattr(self._browser, name)


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, base_url=live_server.url)
    page = watch_errors(context.new_page())
    yield page
    context.close()


def watch_errors(page):
    """The page, with what went wrong in it listed in `page.errors`: uncaught errors, and
    swaps htmx could not do (an out-of-band element with no target), which it logs as
    errors (it logs a failed request too, which some tests make on purpose: not listed)."""
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and message.text.startswith(("htmx:oob", "htmx:swapError", "htmx:targetError"))
            and page.errors.append(message.text)
        ),
    )
    return page


SEED_URL = f"/articles/{SEED_SLUG}"

_users = iter(range(1, 10_000))


def sign_up(page, prefix: str = "reader") -> str:
    """Create a fresh account through the sign-up form; returns its username."""
    username = f"{prefix}{next(_users)}"
    page.goto("/signup")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    return username


def log_in(page, username: str, password: str = PASSWORD) -> None:
    """Log in through the login form as an existing account."""
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


# --- flows the reader's tests share ---------------------------------------------------


def open_article(page, url: str = SEED_URL, prefix: str = "reader") -> str:
    """Sign up a fresh account and open an article's reader (the seed article unless
    `url` says another); returns the username."""
    username = sign_up(page, prefix)
    page.goto(url)
    return username


def announced(page):
    """The page's one live region."""
    return page.locator("#announcer")


def select_from_caret(page, count: int) -> None:
    """Shift+ArrowRight `count` times from the caret (as a keyboard reader selects)."""
    for _ in range(count):
        page.keyboard.press("Shift+ArrowRight")


def into_article(page) -> None:
    """Tab from the page's start to the article (the skip link, the header, then the
    article's own links come first: focus the article as Tab eventually does)."""
    from playwright.sync_api import expect

    page.locator("#article-body").focus()
    expect(page.locator("#article-body")).to_be_focused()
