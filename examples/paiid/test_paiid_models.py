"""Seed 002 with the application's model as the desired schema: from a new database and from one
that `create_all` made for the old model, one command writes the reviewed migration that brings
the database to `models.py`, `shale up` applies it, and the diff between the migrations and the
model is empty afterwards; a model change without a migration fails the check (exit 1)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import shale
from conftest import psql

HERE = Path(__file__).resolve().parent
MODELS = f"exec:{sys.executable} -m shale.sqlalchemy models:Base"

# The model before seed 002's fix, as create_all built it: no username, password_hash NOT NULL.
OLD_MODELS = '''
from sqlalchemy import Boolean, Column, Integer, String, text
from sqlalchemy.orm import declarative_base
Base = declarative_base()
class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True, index=True)
    email = Column(String(255), unique=True, index=True, nullable=False)
    password_hash = Column(String(255), nullable=False)
    full_name = Column(String(255), nullable=True)
    role = Column(String(50), server_default="personal_only", nullable=False, index=True)
    is_active = Column(Boolean, server_default=text("true"), nullable=False, index=True)
'''


def shale_cli(project: Path, database: str, *args: str) -> subprocess.CompletedProcess:
    return shale.run("--database-url", database, *args, cwd=project, check=False)


def check(project: Path, database: str) -> subprocess.CompletedProcess:
    """The CI check: do the migrations build exactly what the models describe?"""
    return shale_cli(project, database, "diff", "--from", "migrations", "--to", MODELS, "--exit-code")


def test_the_repository_migrations_match_the_model(database: str) -> None:
    run = shale.run("--database-url", database, "diff", "--from", "migrations", "--to", MODELS, "--exit-code", cwd=HERE, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "no differences" in run.stderr


@pytest.mark.parametrize("start", ["new database", "made by create_all"])
def test_one_command_writes_the_migration_to_the_model(start: str, database: str, tmp_path: Path) -> None:
    project = tmp_path / "backend"
    (project / "migrations").mkdir(parents=True)
    # Where the project stood before the fix: the old table as 001, the new model in models.py.
    shutil.copy(HERE / "migrations" / "001_create_users.sql", project / "migrations")
    shutil.copy(HERE / "models.py", project)
    if start == "made by create_all":
        (tmp_path / "old_models.py").write_text(OLD_MODELS)
        ddl = subprocess.run(
            [sys.executable, "-m", "shale.sqlalchemy", "old_models:Base"], cwd=tmp_path, capture_output=True, text=True, check=True
        ).stdout
        psql(database, ddl)
        psql(database, "INSERT INTO users (email, password_hash) VALUES ('old@example.com', 'x')")

    # The model changed without a migration: the check fails and shows what is missing.
    run = check(project, database)
    assert run.returncode == 1, run.stderr
    assert "ALTER TABLE public.users ADD COLUMN username character varying(255);" in run.stdout, run.stdout
    assert "ALTER TABLE public.users ALTER COLUMN password_hash DROP NOT NULL;" in run.stdout, run.stdout

    # One command writes the reviewed migration (in the directory's dbmate layout, with its down).
    written = shale_cli(project, database, "diff", "--from", "migrations", "--to", MODELS, "--write", "add_username_nullable_password")
    assert written.returncode == 0, written.stderr
    migration = (project / "migrations" / "002_add_username_nullable_password.sql").read_text()
    assert "-- migrate:up" in migration and "-- migrate:down" in migration
    assert "ADD COLUMN username" in migration and "DROP NOT NULL" in migration

    # shale up applies it (on the create_all database, 001 is a no-op and is recorded).
    result = shale.up(database, cwd=project)
    expected = ["001", "002"]
    assert result.versions == expected and result.current_version == "002"
    if start == "made by create_all":
        assert psql(database, "SELECT email FROM users") == "old@example.com"
    psql(database, "INSERT INTO users (email) VALUES ('mvp@example.com')")  # no password: accepted now

    # Afterwards: the migrations build the model, and the live database is the model.
    run = check(project, database)
    assert run.returncode == 0 and "no differences" in run.stderr, run.stdout + run.stderr
    run = shale_cli(project, database, "drift", "--against", MODELS)
    assert run.returncode == 0 and "no drift" in run.stdout, run.stdout + run.stderr

    # The next model change without its migration fails the check again.
    models = (project / "models.py").read_text()
    models = models.replace("from sqlalchemy import Boolean,", "from sqlalchemy import DateTime, Boolean,")
    models += "    last_login_at = Column(DateTime(timezone=True), nullable=True)\n"
    (project / "models.py").write_text(models)
    run = check(project, database)
    assert run.returncode == 1, run.stderr
    assert "ADD COLUMN last_login_at timestamp with time zone" in run.stdout, run.stdout
