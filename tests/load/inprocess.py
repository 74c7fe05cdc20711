"""What else scales badly, measured in one process with Flask's test client: the SQL
statements, bytes and milliseconds of one request (the median of a few), on the same
database the server used."""

from __future__ import annotations

import gc
import statistics
import time
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine

from tests.conftest import PASSWORD
from webapp import create_app
from webapp.extensions import db


class StatementCounter:
    """Counts the statements an engine runs, and the time spent in them."""

    def __init__(self, engine: Engine):
        self.count = 0
        self.seconds = 0.0
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def reset(self) -> None:
        self.count, self.seconds = 0, 0.0

    def _before(self, connection, cursor, statement, parameters, context, executemany):
        connection.info.setdefault("bench_started", []).append(time.perf_counter())

    def _after(self, connection, cursor, statement, parameters, context, executemany):
        self.seconds += time.perf_counter() - connection.info["bench_started"].pop()
        self.count += 1


class InProcess:
    """The app in this process, on the benchmark's database."""

    def __init__(self, root: Path, database_uri: str, seeds_dir: str):
        self.app = create_app(
            {
                "SECRET_KEY": "bench-in-process",
                "INSTANCE_PATH": str(root / "in-process"),
                "SQLALCHEMY_DATABASE_URI": database_uri,
                "SEEDS_DIR": seeds_dir,
                "WTF_CSRF_ENABLED": False,
                "WRITES_PER_MINUTE": 10**9,
            }
        )
        with self.app.app_context():
            self.counter = StatementCounter(db.engine)

    def client(self, username: str | None = None):
        client = self.app.test_client()
        # As the benchmark's server says it serves (gunicorn's sync workers, one request
        # at a time): the class's kept views are changed in place, as there.
        client.environ_base.update(
            {"SERVER_SOFTWARE": "gunicorn/in-process", "wsgi.multithread": False}
        )
        if username:
            response = client.post("/login", data={"username": username, "password": PASSWORD})
            if response.status_code != 302:
                raise RuntimeError(f"cannot log in as {username}: {response.status_code}")
        return client

    def measure(self, client, path: str, label: str, reps: int, headers=None) -> dict:
        client.get(path, headers=headers)  # warm: templates compiled, layout cached
        gc.collect()  # what the corpus's building left is not collected in a timed request
        samples = []
        for _ in range(reps):
            self.counter.reset()
            began, began_cpu = time.perf_counter(), time.process_time()
            response = client.get(path, headers=headers)
            elapsed = time.perf_counter() - began
            cpu = time.process_time() - began_cpu
            if response.status_code != 200:
                raise RuntimeError(f"{path} answered {response.status_code}")
            samples.append(
                (elapsed, self.counter.count, self.counter.seconds, len(response.data), cpu)
            )
        return {
            "label": label,
            "path": path,
            "ms": statistics.median(s[0] for s in samples) * 1000,
            "cpu_ms": statistics.median(s[4] for s in samples) * 1000,
            "statements": int(statistics.median(s[1] for s in samples)),
            "sql_ms": statistics.median(s[2] for s in samples) * 1000,
            "bytes": int(statistics.median(s[3] for s in samples)),
        }

    def close(self) -> None:
        with self.app.app_context():
            db.engine.dispose()
