"""Benchmark: importing a 100-page PDF and a long web page, as `make bench` runs it.

Each is made here (fpdf2 writes the PDF; a server on loopback serves the page), then
extracted and imported into a throw-away SQLite database through the same path as the
upload and the command line. It prints seconds; it asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.conftest import make_config  # noqa: E402
from tests.samples import PARAGRAPH, html_page, pdf, png, wrap  # noqa: E402
from tests.site import LocalSite  # noqa: E402


def long_pdf(pages: int) -> bytes:
    paragraphs = [wrap(f"Paragraph {n}. {PARAGRAPH} {PARAGRAPH}") for n in range(pages * 4)]
    headings = {n: f"Part {n // 12 + 1}" for n in range(0, len(paragraphs), 12)}
    return pdf(paragraphs, heading_before=headings, lines_per_page=30)


def long_page(paragraphs: int, images: int) -> str:
    parts = []
    for n in range(paragraphs):
        if n % 25 == 0:
            parts.append(f"<h2>Section {n // 25 + 1}</h2>")
        parts.append(f"<p>Paragraph {n}. {PARAGRAPH} <em>{PARAGRAPH}</em></p>")
        if n % 100 == 50 and n // 100 < images:
            parts.append(f'<figure><img src="/img/{n}.png" alt="Figure {n}"></figure>')
    return html_page("\n".join(parts))


def timed(label: str, action):
    started = time.perf_counter()
    result = action()
    print(f"  {label:<44} {time.perf_counter() - started:7.2f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--paragraphs", type=int, default=600)  # near the 300,000 limit
    parser.add_argument("--images", type=int, default=10)
    args = parser.parse_args()

    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.extensions import db
    from webapp.services.documents import import_extracted
    from webapp.text.extract import extract
    from webapp.text.fetch import fetch_article

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(make_config(Path(tmp), FETCH_ALLOWED_HOSTS=frozenset({"127.0.0.1"})))
        with app.app_context():
            upgrade()
            print(f"Import of a {args.pages}-page PDF:")
            data = timed("write the PDF (fpdf2, not the app)", lambda: long_pdf(args.pages))
            article = timed(f"extract ({len(data) // 1024} KB)", lambda: extract(data))
            result = timed(
                "import (render, canonical text, store)",
                lambda: import_extracted(db.session, article, source_name="b.pdf", owner_id=None),
            )
            db.session.commit()
            text = result.document.current_version.text
            print(f"  -> {len(text):,} characters, {text.count(chr(10) * 2) + 1:,} blocks")

            page = long_page(args.paragraphs, args.images).encode()
            print(
                f"Import of a long web page ({args.paragraphs} paragraphs, "
                f"{page.count(b'<img')} images):"
            )
            with LocalSite() as site:
                site.page("/long", page)
                for n in range(0, args.paragraphs, 100):
                    site.page(f"/img/{n + 50}.png", png(64, 48, (n % 256, 80, 160)), "image/png")
                article = timed(
                    f"fetch + extract ({len(page) // 1024} KB, images copied)",
                    lambda: fetch_article(site.url("/long"), allowed_hosts={"127.0.0.1"}),
                )
            result = timed(
                "import (render, canonical text, store)",
                lambda: import_extracted(db.session, article, source_name="long", owner_id=None),
            )
            db.session.commit()
            text = result.document.current_version.text
            print(f"  -> {len(text):,} characters, {len(article.images)} images stored")
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
