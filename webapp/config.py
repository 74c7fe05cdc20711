"""Configuration read from the environment, with defaults that work on one machine."""

from __future__ import annotations

import os
import secrets
import time
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# htmx is served from a CDN, pinned to an exact version with its SRI hash; a local copy
# fetched from the npm registry at set-up time (scripts/fetch-htmx) is the fallback.
HTMX_VERSION = "2.0.11"
HTMX_INTEGRITY = "sha384-2OatzQy1H+Zd/IIrjr1TcuDGqLXeHhbooAyJY1KdQMKnr4LZ22k31GBLdYKHmVjg"
HTMX_CDN_URL = f"https://cdn.jsdelivr.net/npm/htmx.org@{HTMX_VERSION}/dist/htmx.min.js"


def _secret_key(instance_path: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in instance/."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    key_file = instance_path / "secret_key"
    instance_path.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: when several workers start at once, one writes and the others read.
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(key_file)
    key = secrets.token_hex(32)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key)
    return key


def _read_key(key_file: Path) -> str:
    for _ in range(50):
        key = key_file.read_text().strip()
        if key:
            return key
        time.sleep(0.02)  # another worker is still writing it
    raise RuntimeError(f"{key_file} is empty: delete it or set SECRET_KEY")


def host_list(value: str) -> frozenset[str]:
    """Comma-separated host names or addresses, as the fetcher compares them."""
    return frozenset(host.strip().strip("[]").lower() for host in value.split(",") if host.strip())


def load_config(instance_path: Path) -> dict:
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'marginalia.db'}"
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgres://")
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    return {
        "SECRET_KEY": _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE", "0") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # How long a login lasts at most, remembered or not (the remember cookie's age).
        "REMEMBER_DAYS": int(os.environ.get("REMEMBER_DAYS", "14")),
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_SSL_STRICT": False,
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "SEEDS_DIR": os.environ.get("SEEDS_DIR", str(PROJECT_ROOT / "seeds")),
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
        "WRITES_PER_MINUTE": int(os.environ.get("WRITES_PER_MINUTE", "120")),
        # How long a write waits for SQLite's write lock before answering 503.
        "SQLITE_BUSY_TIMEOUT_MS": int(os.environ.get("SQLITE_BUSY_TIMEOUT_MS", "10000")),
        # Hosts the article fetcher may reach although they are loopback or private.
        "FETCH_ALLOWED_HOSTS": host_list(os.environ.get("FETCH_ALLOWED_HOSTS", "")),
        # E-mail (notifications, "forgot password"): off unless SMTP_HOST is set.
        "SMTP_HOST": os.environ.get("SMTP_HOST", ""),
        "SMTP_PORT": int(os.environ.get("SMTP_PORT") or "25"),
        "SMTP_FROM": os.environ.get("SMTP_FROM", ""),
        "SMTP_USER": os.environ.get("SMTP_USER", ""),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": os.environ.get("SMTP_STARTTLS", "0") == "1",
        # The address links in e-mails point at (default: SERVER_NAME, else HOST:PORT).
        "BASE_URL": os.environ.get("BASE_URL", ""),
        "HTMX_CDN_URL": os.environ.get("HTMX_CDN_URL", HTMX_CDN_URL),
        "HTMX_INTEGRITY": HTMX_INTEGRITY,
        "HTMX_VERSION": HTMX_VERSION,
        # `make bench` measures against GET /bench/hello; production never serves it.
        "BENCH_HELLO": os.environ.get("BENCH_HELLO", "0") == "1",
    }


def derived_config(config: dict) -> dict:
    """Settings that follow others, computed once any overrides are in."""
    derived = {
        "REMEMBER_COOKIE_DURATION": timedelta(days=config["REMEMBER_DAYS"]),
        "REMEMBER_COOKIE_SECURE": config["SESSION_COOKIE_SECURE"],
        "MAIL_ENABLED": bool(config["SMTP_HOST"]),
    }
    if not config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # A pooled connection to a server that restarted (or ended it) is found dead before
        # a request uses it, and replaced: a restart costs no request an error.
        options = config.get("SQLALCHEMY_ENGINE_OPTIONS", {})
        derived["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True, **options}
    return derived
