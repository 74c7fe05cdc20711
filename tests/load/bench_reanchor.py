"""Benchmark: re-anchoring 2,000 annotations when an article is edited, as `make bench` runs it.

A long article gets 2,000 annotations spread over it; then an edit adds a paragraph at the
top (every note moves), rewords a sentence in every tenth paragraph (fuzzy matches) and
deletes a few paragraphs (orphans). It times the owner's review (the dry run) and the save
(the new version through import_extracted, annotations moved), in a throw-away SQLite
database. It prints seconds; it asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.conftest import make_config  # noqa: E402

WORDS = (
    "river otter stream bank dusk beaver dam pond kingfisher fish dawn reed willow stone "
    "current meadow heron alder moss pebble shallow bend ripple marsh"
).split()


def paragraph(rng: random.Random, n: int) -> str:
    sentences = []
    for s in range(5):
        words = [rng.choice(WORDS) for _ in range(rng.randint(10, 18))]
        sentences.append(f"Paragraph {n} sentence {s}: " + " ".join(words) + ".")
    return " ".join(sentences)


def timed(label: str, action):
    started = time.perf_counter()
    result = action()
    print(f"  {label:<52} {time.perf_counter() - started:7.2f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--annotations", type=int, default=2_000)
    parser.add_argument("--paragraphs", type=int, default=400)
    args = parser.parse_args()

    import sqlalchemy as sa
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.extensions import db
    from webapp.models import Annotation, User
    from webapp.services import intake
    from webapp.services.documents import import_extracted, preview_extracted
    from webapp.text.anchoring import anchor_at
    from webapp.text.document import build_layout
    from webapp.text.extract import ExtractedArticle

    rng = random.Random(7)
    paragraphs = [paragraph(rng, n) for n in range(args.paragraphs)]

    def article(body: list[str]) -> ExtractedArticle:
        return ExtractedArticle("markdown", "Rivers", None, None, None, "\n\n".join(body), ())

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(make_config(Path(tmp)))
        with app.app_context():
            upgrade()
            owner = User(username="owner", password_hash="!")
            db.session.add(owner)
            db.session.flush()
            result = import_extracted(
                db.session, article(paragraphs), source_name="rivers", owner_id=owner.id
            )
            document = result.document
            version = document.current_version
            text = version.text
            print(
                f"Re-anchoring {args.annotations:,} annotations on an edit "
                f"({len(text):,} characters, {args.paragraphs} paragraphs):"
            )
            rows = []
            for _ in range(args.annotations):
                start = rng.randrange(0, len(text) - 60)
                while not text[start].isalpha():
                    start += 1
                anchor = anchor_at(text, start, start + rng.randint(8, 60))
                rows.append(
                    Annotation(
                        document_id=document.id,
                        version_id=version.id,
                        author_id=owner.id,
                        start=anchor.start,
                        end=anchor.end,
                        exact=anchor.exact,
                        prefix=anchor.prefix,
                        suffix=anchor.suffix,
                    )
                )
            db.session.add_all(rows)
            db.session.commit()

            edited = ["A new opening paragraph that moves every note after it."] + [
                p.replace("sentence 2:", "sentence two, reworded:") if n % 10 == 0 else p
                for n, p in enumerate(paragraphs)
                if n % 50 != 25
            ]
            new = article(edited)
            new_text = timed(
                "the new text (render, canonical text)",
                lambda: build_layout(preview_extracted(new).html).text,
            )
            plan = timed(
                "review: the dry run the owner sees",
                lambda: intake.plan_for(db.session, document, new_text),
            )
            counts = {key: plan.count(key) for key in ("kept", "moved", "orphaned")}
            print(f"  -> {counts}")
            db.session.expire_all()
            saved = timed(
                "save: new version, every annotation moved",
                lambda: import_extracted(db.session, new, source_name="rivers", owner_id=owner.id),
            )
            timed("commit", db.session.commit)
            print(f"  -> {saved.reanchored:,} anchored, {saved.orphaned:,} orphans")
            orphans = db.session.scalar(
                sa.select(sa.func.count(Annotation.id)).where(Annotation.version_id.is_(None))
            )
            assert orphans == saved.orphaned
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
