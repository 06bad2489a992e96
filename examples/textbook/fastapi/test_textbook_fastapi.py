"""The FastAPI example against a real server: two app processes started at once both serve and
the migration ran once; a broken migration stops start-up with the file:line:column error."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import httpx

from conftest import psql

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(port: int, database: str, migrations: Path) -> subprocess.Popen:
    env = dict(os.environ, NEON_DATABASE_URL=database, MIGRATIONS_DIR=str(migrations))
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "main:app", "--host", "127.0.0.1", "--port", str(port)],
        cwd=HERE,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_healthy(proc: subprocess.Popen, port: int) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the app exited with {proc.returncode}:\n{proc.stdout.read()}")
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
            if response.status_code == 200:
                return response.json()
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("the app never became healthy")


def stop(procs: List[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()


def test_two_processes_at_once_both_serve_and_the_migration_ran_once(database: str) -> None:
    ports = [free_port(), free_port()]
    procs = [start_app(port, database, HERE.parent / "migrations") for port in ports]
    try:
        bodies = [wait_healthy(p, port) for p, port in zip(procs, ports)]
    finally:
        stop(procs)
    assert [b["status"] for b in bodies] == ["healthy", "healthy"]
    assert [b["version"] for b in bodies] == ["001", "001"]
    # One process applied 001, the other waited on the lock and found nothing pending.
    assert sorted(v for b in bodies for v in b["applied_at_startup"]) == ["001"], bodies
    assert psql(database, "SELECT count(*) FROM shale_migrations WHERE kind = 'versioned'") == "1"
    assert psql(database, "SELECT count(*) FROM users") == "0"


def test_a_broken_migration_stops_start_up_with_file_line_column(database: str, tmp_path: Path) -> None:
    migrations = tmp_path / "migrations"
    shutil.copytree(HERE.parent / "migrations", migrations)
    (migrations / "002_add_locale.sql").write_text(
        "-- migrate:up\nALTER TABLE users ADD COLUMN locale text;\nUPDATE users SET locale = preferred_locale;\n"
    )
    port = free_port()
    proc = start_app(port, database, migrations)
    try:
        out, _ = proc.communicate(timeout=60)
    finally:
        stop([proc])
    assert proc.returncode != 0, out
    assert f"refusing to start: migration failed at {migrations}/002_add_locale.sql:3:" in out, out
    assert 'column "preferred_locale" does not exist' in out and "SQLSTATE 42703" in out, out
    # Nothing of 002 was kept; 001 was applied before it.
    assert psql(database, "SELECT count(*) FROM information_schema.columns WHERE column_name = 'locale'") == "0"
    assert psql(database, "SELECT count(*) FROM users") == "0"
