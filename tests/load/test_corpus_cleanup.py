"""The benchmark's clean-up between slices leaves the database as the first slice found
it: the notes written are gone, and so are their changes, with the change counter back
at the log's last seq (as a restored backup leaves it)."""

from __future__ import annotations

from urllib.parse import parse_qsl

import sqlalchemy as sa
from flask_migrate import upgrade

from tests.conftest import SEEDS
from tests.load import bench
from tests.load import corpus as corpora
from tests.load.inprocess import InProcess
from webapp import create_app
from webapp.extensions import db
from webapp.models import Annotation, Change, ChangeCounter


def last_seqs(engine, document_id: int) -> tuple[int, int]:
    """(the log's last seq, the counter's) of a document."""
    with engine.connect() as connection:
        logged = connection.scalar(
            sa.select(sa.func.max(Change.seq)).where(Change.document_id == document_id)
        )
        counted = connection.scalar(
            sa.select(ChangeCounter.last_seq).where(ChangeCounter.document_id == document_id)
        )
    return logged, counted


def test_the_clean_up_takes_the_change_counter_back_with_the_log(tmp_path):
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    app = create_app(
        {
            "SECRET_KEY": "cleanup",
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SQLALCHEMY_DATABASE_URI": url,
            "SEEDS_DIR": str(SEEDS),
        }
    )
    with app.app_context():
        upgrade()
        app.test_cli_runner().invoke(args=["seed"], catch_exceptions=False)
        db.engine.dispose()
    engine = corpora.connect(url)
    built = corpora.build_class_corpus(engine, 20, 10)
    first_free = corpora.first_free_note_id(engine)
    before = last_seqs(engine, built.document_id)
    assert before[0] == before[1]

    server = InProcess(tmp_path, url, str(SEEDS))
    try:
        writer = server.client(built.writers(1)[0])
        tokenless = [type("Writer", (), {"token": "", "cookie": ""})()]
        context = f"class-{built.classroom_id}"
        requests = bench.write_requests(
            tokenless, built.slug, built.version_id, built.text, context, corpora.SEED, 3
        )

        def write_all() -> None:
            for request in requests:
                form = dict(parse_qsl(request.body))
                answer = writer.post(request.path, data=form, headers={"HX-Request": "true"})
                assert answer.status_code == 200

        write_all()
        assert last_seqs(engine, built.document_id) == (before[0] + 3, before[0] + 3)
        assert corpora.delete_notes_from(engine, first_free) == 3
        assert last_seqs(engine, built.document_id) == before
        with engine.connect() as connection:
            assert (
                connection.scalar(sa.select(sa.func.count()).where(Annotation.id >= first_free))
                == 0
            )
        write_all()  # the same seqs again, after the log's last
        assert last_seqs(engine, built.document_id) == (before[0] + 3, before[0] + 3)
    finally:
        server.close()
        engine.dispose()
