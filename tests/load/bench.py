"""Benchmark: the app under gunicorn on loopback, as `make bench` runs it.

Measures requests per second and latency percentiles for the library, the reader page
(anonymous, and for a reader with many highlights), and concurrent writes. It prints
numbers; it asserts nothing about speed. Every loop is bounded in time and count.
"""

from __future__ import annotations

import argparse
import http.client
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.browser.conftest import LiveServer  # noqa: E402
from tests.conftest import PASSWORD, SEED_SLUG  # noqa: E402

MAX_REQUESTS_PER_RUN = 200_000


class Client:
    """One keep-alive connection with a cookie jar of one session."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookie = ""

    def request(self, method: str, path: str, body: dict | None = None, headers=None):
        headers = dict(headers or {})
        if self.cookie:
            headers["Cookie"] = self.cookie
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=data, headers=headers)
        response = self.connection.getresponse()
        payload = response.read()
        if cookie := response.getheader("Set-Cookie"):
            self.cookie = cookie.split(";", 1)[0]
        return response.status, payload.decode("utf-8", "replace")


def sign_up(port: int, username: str) -> tuple[Client, str]:
    client = Client(port)
    status, page = client.request("GET", "/signup")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.request(
        "POST", "/signup", {"username": username, "password": PASSWORD, "csrf_token": token}
    )
    return client, token


def canonical_text(port: int) -> tuple[str, str]:
    """The article's spans, joined back into the canonical text, and its version id."""
    status, page = Client(port).request("GET", f"/articles/{SEED_SLUG}")
    version = re.search(r'data-version="(\d+)"', page).group(1)
    pieces = re.findall(r'<span data-o="(\d+)">(.*?)</span>', page, re.S)
    import html

    text = ""
    for offset, chunk in pieces:
        chunk = html.unescape(re.sub(r"<[^>]+>", "", chunk))
        text += "\n" * (int(offset) - len(text)) + chunk
    return text, version


def run(label: str, threads: int, seconds: float, make_client, action) -> dict:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker(index: int):
        nonlocal errors
        client = make_client(index)
        local, local_errors, count = [], 0, 0
        while time.monotonic() < stop_at and count < MAX_REQUESTS_PER_RUN // threads:
            began = time.perf_counter()
            ok = action(client, index, count)
            local.append(time.perf_counter() - began)
            local_errors += not ok
            count += 1
        with lock:
            latencies.extend(local)
            errors += local_errors

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    began = time.monotonic()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.monotonic() - began
    latencies.sort()
    result = {
        "label": label,
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else 0,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else 0,
        "errors": errors,
    }
    print(
        f"{label:42} {result['rps']:8.1f} req/s  p50 {result['p50_ms']:7.1f} ms  "
        f"p99 {result['p99_ms']:7.1f} ms  errors {errors}/{len(latencies)}",
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--highlights", type=int, default=300)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(Path(tmp), workers=args.workers, WRITES_PER_MINUTE="1000000")
        port = server.port
        try:
            print(
                f"gunicorn, {args.workers} sync workers, {args.threads} client threads, "
                f"{args.seconds:g} s per run, SQLite\n"
            )
            text, version = canonical_text(port)
            page = f"/articles/{SEED_SLUG}"

            run(
                "library /",
                args.threads,
                args.seconds,
                lambda i: Client(port),
                lambda c, i, n: c.request("GET", "/")[0] == 200,
            )
            run(
                "reader, anonymous",
                args.threads,
                args.seconds,
                lambda i: Client(port),
                lambda c, i, n: c.request("GET", page)[0] == 200,
            )

            heavy, token = sign_up(port, "bench-heavy")
            words = [m.span() for m in re.finditer(r"\w+(?: \w+){0,6}", text)]
            for n in range(args.highlights):
                start, end = words[(n * 7) % len(words)]
                heavy.request(
                    "POST",
                    f"{page}/annotations",
                    {
                        "start": start,
                        "end": end,
                        "exact": text[start:end],
                        "version": version,
                        "csrf_token": token,
                        "body": f"note {n} with *some* markdown",
                    },
                )
            sessions = {}

            def heavy_client(index):
                client = Client(port)
                client.cookie = heavy.cookie
                sessions[index] = client
                return client

            run(
                f"reader, {args.highlights} highlights + cards",
                args.threads,
                args.seconds,
                heavy_client,
                lambda c, i, n: c.request("GET", page)[0] == 200,
            )

            status, reader_page = heavy.request("GET", page)
            cursor = re.search(r"/changes\?cursor=(\d+)", reader_page).group(1)
            run(
                "live poll, nothing new (204)",
                args.threads,
                args.seconds,
                heavy_client,
                lambda c, i, n: (
                    c.request("GET", f"{page}/changes?cursor={cursor}&context=private")[0] == 204
                ),
            )

            writers = [sign_up(port, f"bench-writer-{i}") for i in range(args.threads)]

            def write(client_token, index, n):
                client, csrf = client_token
                start, end = words[(index * 13 + n) % len(words)]
                status, _ = client.request(
                    "POST",
                    f"{page}/annotations",
                    {
                        "start": start,
                        "end": end,
                        "exact": text[start:end],
                        "version": version,
                        "csrf_token": csrf,
                    },
                    headers={"HX-Request": "true"},
                )
                return status == 200

            run(
                "create highlight (htmx), concurrent writers",
                args.threads,
                min(args.seconds, 3.0),
                lambda i: writers[i],
                write,
            )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
