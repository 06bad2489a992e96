"""The PostgreSQL server the Python tests share (python/tests, examples/*/ pytest files).

A real server, never a mock: `shale dev start` in a temporary directory (initdb from the local
server binaries, a Unix socket only, run as `postgres` when root), stopped at the end of the
session. Each test gets a fresh database (`database` fixture: its URL). The `shale` binary is
the installed package's (`shale.find_shale_bin()`), or `SHALE_BIN`.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import tempfile
from typing import Iterator

import pytest

import shale


def psql_bin() -> str:
    found = shutil.which("psql") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"), reverse=True)), None)
    if not found:
        raise RuntimeError("psql not found: install the PostgreSQL client (apt-get install postgresql)")
    return found


def psql(url: str, sql: str) -> str:
    """Run SQL on the database `url` names; the unaligned, tuples-only output."""
    proc = subprocess.run(
        [psql_bin(), url, "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-c", sql],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"psql failed: {proc.stderr}")
    return proc.stdout.strip()


class Server:
    def __init__(self, url: str, directory: str) -> None:
        self.url = url
        self.directory = directory
        self._count = 0

    def url_for(self, dbname: str) -> str:
        # postgresql://postgres@%2F...%2F.shale%2Fdev:PORT/postgres: the same socket, another database.
        return self.url.rsplit("/", 1)[0] + "/" + dbname

    def create_database(self, hint: str) -> str:
        self._count += 1
        name = re.sub(r"[^a-z0-9_]", "_", hint.lower())[:40] + f"_{self._count}"
        psql(self.url, f'DROP DATABASE IF EXISTS "{name}"')
        psql(self.url, f'CREATE DATABASE "{name}"')
        return self.url_for(name)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    directory = tempfile.mkdtemp(prefix="shale-py-")
    # The server runs as `postgres` when the tests run as root: it must reach the directory.
    os.chmod(directory, 0o755)
    binary = shale.find_shale_bin()
    started = subprocess.run([binary, "dev", "start"], cwd=directory, capture_output=True, text=True)
    if started.returncode != 0:
        raise RuntimeError(f"shale dev start failed: {started.stderr}")
    url = started.stdout.strip().splitlines()[-1]
    try:
        yield Server(url, directory)
    finally:
        subprocess.run([binary, "dev", "stop"], cwd=directory, capture_output=True)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def database(pg_server: Server, request: pytest.FixtureRequest) -> str:
    """The URL of a fresh, empty database for this test."""
    return pg_server.create_database(request.node.name)
