"""Retake the README's screenshots (docs/*.png) from the running app: `make screenshots`.

Starts the app under gunicorn on a free loopback port with its own SQLite file, the seed
articles and the demo class (`flask demo`: an instructor, three students, a discussion),
then photographs it in Debian's chromium through Playwright at 1,440 and 375 px wide, in
the light and the dark theme.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from tests.browser import conftest  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.browser.test_reader import drag_select  # noqa: E402
from tests.support.servers import LiveServer, flask  # noqa: E402
from webapp.services.demo import INSTRUCTOR, PASSWORD, STUDENTS  # noqa: E402

DOCS = ROOT / "docs"
WIDE = {"width": 1440, "height": 900}
PHONE = {"width": 375, "height": 812}
SELECTION = "Russian forces were needed in the country long-term"


def log_in(page, username: str) -> None:
    conftest.log_in(page, username, PASSWORD)


def open_page(browser, server, viewport, scheme="light", mobile=False):
    context = browser.new_context(
        viewport=viewport,
        base_url=server.url,
        color_scheme=scheme,
        reduced_motion="reduce",
        device_scale_factor=1,
        is_mobile=mobile,
        has_touch=mobile,
    )
    return context.new_page()


def class_url(page) -> str:
    """The demo class's view of its article, from the library's "Assigned" shelf."""
    page.goto("/")
    link = page.locator(".shelf a.article-link").first
    page.goto(link.get_attribute("href"))
    context = page.locator(".contexts a", has_text="Demo class").get_attribute("href")
    return context


def shoot(page, name: str, **options) -> None:
    path = DOCS / name
    page.screenshot(path=str(path), **options)
    print(f"  {path.relative_to(ROOT)}")


def reader_with_toolbar(browser, server, scheme: str, name: str) -> None:
    page = open_page(browser, server, WIDE, scheme)
    log_in(page, STUDENTS[0])
    page.goto(class_url(page))
    expect(page.locator(".card").first).to_be_visible()
    for _ in range(3):  # a drag on a busy machine can overshoot: take it again
        page.evaluate("getSelection().removeAllRanges()")
        drag_select(page, SELECTION)
        if page.evaluate("getSelection().toString()") == SELECTION:
            break
    expect(page.locator("#annotate-form")).to_be_visible()
    page.evaluate("window.scrollBy(0, -120)")
    page.wait_for_timeout(300)  # the toolbar's position settles after the scroll
    shoot(page, name)
    page.context.close()


def reader_on_a_phone(browser, server, scheme: str, name: str) -> None:
    page = open_page(browser, server, PHONE, scheme, mobile=True)
    log_in(page, STUDENTS[1])
    page.goto(class_url(page))
    expect(page.locator("#article-body mark").first).to_be_attached()
    shoot(page, name)
    page.context.close()


def class_page(browser, server, scheme: str, name: str) -> None:
    page = open_page(browser, server, WIDE, scheme)
    log_in(page, INSTRUCTOR)
    page.goto("/classes")
    page.locator(".class-link").first.click()
    expect(page.locator(".join-code")).to_be_visible()
    shoot(page, name, full_page=True)
    page.context.close()


def library(browser, server, scheme: str, name: str) -> None:
    page = open_page(browser, server, WIDE, scheme)
    log_in(page, STUDENTS[0])
    shoot(page, name)
    page.context.close()


def main() -> None:
    DOCS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="marginalia-shots-") as tmp:
        server = LiveServer(Path(tmp))
        try:
            flask(server.env, "demo")
            print(f"Screenshots of {server.url}:")
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    reader_with_toolbar(browser, server, "light", "reader.png")
                    reader_with_toolbar(browser, server, "dark", "reader-dark.png")
                    reader_on_a_phone(browser, server, "light", "reader-phone.png")
                    reader_on_a_phone(browser, server, "dark", "reader-phone-dark.png")
                    library(browser, server, "light", "library.png")
                    class_page(browser, server, "dark", "class-dark.png")
                finally:
                    browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
