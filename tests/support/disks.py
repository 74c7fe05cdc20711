"""Real disk faults for tests: a small tmpfs that can be filled, and a process that is
refused writes by file permissions.

Tests run as root, where neither a full disk nor `chmod` stops a write by itself: root
writes through permissions, and the machine's disk is large. So a full disk is a tmpfs
mounted for the test (`mount` needs root, which these tests have; without it they skip,
saying why), and a read-only file is `chmod a-w` with the server started without the
capabilities that let root ignore permissions (`setpriv`), as an ordinary service user is.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from tests.support.postgres import ADMIN_URL

# Root that obeys file permissions: no CAP_DAC_OVERRIDE or CAP_DAC_READ_SEARCH, in this
# process's children or any program they start.
WITHOUT_OVERRIDE = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


@contextmanager
def tmpfs(path: Path, size: str = "8m") -> Iterator[Path]:
    """A tmpfs of `size` mounted at `path` for the duration; its files vanish with it."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs for a full disk (needs root): {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        # Lazily: a server that failed to stop must not leave the mount busy for ever.
        subprocess.run(["umount", "--lazy", str(path)], check=True)


def fill(folder: Path) -> Path:
    """Fill the disk holding `folder` to the last byte; returns the file to delete to free it."""
    filler = folder / "filler"
    chunk = b"\0" * (64 * 1024)
    with open(filler, "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(chunk)
        except OSError as error:
            if error.errno != errno.ENOSPC:
                raise
        # The last blocks, smaller than a chunk.
        try:
            while True:
                handle.write(b"\0" * 512)
        except OSError as error:
            if error.errno != errno.ENOSPC:
                raise
    assert shutil.disk_usage(folder).free < 64 * 1024
    return filler


def without_override(program: str | os.PathLike) -> list[str]:
    """The command that runs `program` as root obeying file permissions, or skips."""
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is needed to run a server that obeys permissions")
    probe = subprocess.run([*WITHOUT_OVERRIDE, "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot drop capabilities with setpriv: {probe.stderr.strip()}")
    return [*WITHOUT_OVERRIDE, str(program)]


@contextmanager
def postgres_database_on_small_disk(size: str = "8m") -> Iterator[tuple[str, Path]]:
    """A throw-away PostgreSQL database whose tables live on a tmpfs of `size` (a
    tablespace there); yields its URL and the folder to fill. Its write-ahead log stays on
    the server's own disk, so a full tmpfs refuses new table pages (53100), as a full data
    disk does, and nothing else. Needs the server on this machine, and root."""
    if urlsplit(ADMIN_URL).hostname not in {"127.0.0.1", "localhost", "::1"}:
        pytest.skip("a tablespace on a small disk needs PostgreSQL on this machine")
    # The server's own user must reach the folder: not under pytest's private tmp folder.
    base = Path(tempfile.mkdtemp(prefix="marginalia-disk-", dir="/tmp"))
    base.chmod(0o755)
    name = f"marginalia_test_{uuid.uuid4().hex[:12]}"
    try:
        with tmpfs(base / "disk", size) as disk:
            location = disk / "tablespace"
            location.mkdir()
            shutil.chown(location, "postgres", "postgres")
            with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
                admin.execute(f"CREATE TABLESPACE {name} LOCATION '{location}'")
                try:
                    admin.execute(f'CREATE DATABASE "{name}" TABLESPACE {name}')
                    yield ADMIN_URL.rsplit("/", 1)[0] + "/" + name, disk
                finally:
                    # Space first: dropping takes a checkpoint, which writes there.
                    for filler in disk.glob("filler*"):
                        filler.unlink()
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                    admin.execute(f"DROP TABLESPACE IF EXISTS {name}")
    finally:
        shutil.rmtree(base, ignore_errors=True)
