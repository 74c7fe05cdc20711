"""The benchmark's floor, GET /bench/hello: only when BENCH_HELLO=1, through the whole stack."""

from __future__ import annotations

from tests.conftest import make_config
from webapp import create_app
from webapp.config import load_config


def test_hello_is_not_served_by_default(tmp_path):
    client = create_app(make_config(tmp_path)).test_client()
    assert client.get("/bench/hello").status_code == 404


def test_hello_answers_ok_with_the_apps_headers_when_asked_for(tmp_path):
    client = create_app(make_config(tmp_path, BENCH_HELLO=True)).test_client()
    response = client.get("/bench/hello")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok"
    # The same stack as every page: the app's response hooks ran.
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_bench_hello_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("BENCH_HELLO", raising=False)
    assert load_config(tmp_path)["BENCH_HELLO"] is False
    monkeypatch.setenv("BENCH_HELLO", "0")
    assert load_config(tmp_path)["BENCH_HELLO"] is False
    monkeypatch.setenv("BENCH_HELLO", "1")
    assert load_config(tmp_path)["BENCH_HELLO"] is True
