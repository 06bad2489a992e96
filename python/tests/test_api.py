"""The Python API against a real server: results parsed from the CLI's --json, errors by exit
code with their fields, and the same shale.toml / .env / variables as the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import shale
from conftest import psql

USERS = """-- migrate:up
CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL);
-- migrate:down
DROP TABLE users;
"""
BROKEN = """-- migrate:up
ALTER TABLE users ADD COLUMN profile jsonb;
ALTER TABLE users ADD CONSTRAINT bad CHECK (nosuchcolumn > 0);
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "001_users.sql").write_text(USERS)
    return tmp_path


def test_up_status_down_return_dataclasses(project: Path, database: str) -> None:
    status = shale.status(database, cwd=project)
    assert status.current_version is None and not status.history_exists
    assert [(m.version, m.state) for m in status.migrations] == [("001", "pending")]

    # A backup first, its file named in the result (the package trial: no `backup` option).
    result = shale.up(database, cwd=project, backup=project / "backups")
    assert result.backup is not None and Path(result.backup).parent == project / "backups"
    assert Path(result.backup).stat().st_size > 0
    assert isinstance(result, shale.MigrateResult)
    assert result.versions == ["001"] and result.current_version == "001"
    assert result.steps[0].direction == "up" and result.steps[0].path == "migrations/001_users.sql"
    assert psql(database, "SELECT count(*) FROM users") == "0"

    assert shale.up(database, cwd=project, backup=project / "backups").backup is None  # nothing applied
    status = shale.status(database, cwd=project)
    assert [m.state for m in status.applied] == ["applied"] and status.pending == []

    plan = shale.plan(database, cwd=project)
    assert plan.steps == [] and not plan.refused

    reverted = shale.down(database, cwd=project, all=True)
    assert reverted.versions == ["001"] and reverted.steps[0].direction == "down"
    assert psql(database, "SELECT count(*) FROM pg_tables WHERE tablename = 'users'") == "0"
    with pytest.raises(TypeError):
        shale.down(database, cwd=project)


def test_a_failed_migration_raises_migration_error_with_its_location(project: Path, database: str) -> None:
    (project / "migrations" / "002_profile.sql").write_text(BROKEN)
    with pytest.raises(shale.MigrationError) as caught:
        shale.up(database, cwd=project)
    e = caught.value
    assert e.exit_code == 1
    assert e.file == "migrations/002_profile.sql" and e.line == 3 and e.column == 1
    assert e.location == "migrations/002_profile.sql:3:1"
    assert e.sqlstate == "42703" and e.pg_message == 'column "nosuchcolumn" does not exist'
    assert e.line_text.startswith("ALTER TABLE users ADD CONSTRAINT bad")
    assert e.migration == "002 profile" and e.rolled_back is True
    assert "migrations/002_profile.sql:3:1" in str(e)
    assert isinstance(e, shale.ShaleError)
    # 001 was applied, 002 rolled back whole.
    assert psql(database, "SELECT count(*) FROM information_schema.columns WHERE column_name = 'profile'") == "0"
    assert shale.status(database, cwd=project).current_version == "001"


def test_up_with_seeds_returns_both_reports(project: Path, database: str) -> None:
    # One JSON document (the FastAPI re-check: two, and up(seed=True) raised on success).
    (project / "seeds").mkdir()
    (project / "seeds" / "admin.sql").write_text("INSERT INTO users (email) VALUES ('admin@example.com');\n")
    # A seed in code is said not to run, where an application's log shows it (re-check).
    (project / "seeds" / "01_users.js").write_text("exports.seed = async () => {};\n")
    with pytest.warns(shale.ShaleWarning, match="01_users.js: ignored: a seed written in JavaScript"):
        result = shale.up(database, cwd=project, seed=True)
    assert result.versions == ["001"]
    assert result.seeds is not None and [s.name for s in result.seeds.steps] == ["admin"]
    # A seed has no version: none listed (the package trial: [None], typed as strings).
    assert result.seeds.versions == [] and result.seeds.steps[0].version is None
    assert shale.up(database, cwd=project, seed=True).seeds.steps == []
    assert psql(database, "SELECT count(*) FROM users") == "1"


def test_validation_errors_carry_their_problems(project: Path, database: str) -> None:
    shale.up(database, cwd=project)
    # Its up section changed (a change to its down section alone is no change to what ran).
    (project / "migrations" / "001_users.sql").write_text(USERS.replace("email text NOT NULL", "email text"))
    with pytest.raises(shale.ValidationError) as caught:
        shale.up(database, cwd=project)
    assert caught.value.exit_code == 2
    assert "changed after it was applied" in caught.value.problems[0].message
    # What an application logs names the file and what to do, not only how many problems.
    assert "001 users was changed after it was applied" in str(caught.value)
    assert caught.value.problems[0].path == "migrations/001_users.sql"

    # A statement that does not parse: the problem is where PostgreSQL stops, before anything runs.
    (project / "migrations" / "001_users.sql").write_text(USERS)
    (project / "migrations" / "002_bad.sql").write_text("SELECT 1;\nALTER TABLE users ADD COLUM x int;\n")
    with pytest.raises(shale.ValidationError) as caught:
        shale.up(database, cwd=project)
    problem = caught.value.problems[0]
    assert (problem.path, problem.line, problem.column) == ("migrations/002_bad.sql", 2, 31), problem
    assert "syntax error" in problem.message
    (project / "migrations" / "002_bad.sql").unlink()

    (project / "migrations" / "002_dup.sql").write_text("SELECT 1;")
    (project / "migrations" / "002_dup_again.sql").write_text("SELECT 2;")
    with pytest.raises(shale.ValidationError) as caught:
        shale.status(database, cwd=project)
    assert caught.value.problems and caught.value.problems[0].path
    # The first problem is in the message a log shows (Django round 3: only the count).
    assert caught.value.problems[0].message in str(caught.value), str(caught.value)

    # Run without --json, the message is the error, not the warnings printed before it (the Django
    # trial: a warning that another tool still migrates stood where the error should be).
    (project / "migrations" / "002_dup_again.sql").unlink()
    (project / "migrations" / "002_dup.sql").unlink()
    psql(database, "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY); INSERT INTO alembic_version VALUES ('a1')")
    (project / "migrations" / "001_users.sql").write_text(USERS.replace("email text NOT NULL", "email text"))
    with pytest.raises(shale.ShaleError) as caught:
        shale.run("--database-url", database, "validate", cwd=project)
    assert "warning:" in caught.value.stderr, caught.value.stderr
    assert str(caught.value).startswith("error:") and "001 users" in str(caught.value), str(caught.value)
    with pytest.raises(shale.ShaleError) as caught:
        shale.run("--database-url", database, "validate", "--json", cwd=project)
    assert str(caught.value) == "1 problem(s): migrations/001_users.sql: 001 users modified", str(caught.value)
    (project / "migrations" / "001_users.sql").write_text(USERS)

    # A usage error (exit 2 from the argument parser): no JSON, the message from stderr.
    with pytest.raises(shale.ValidationError) as caught:
        shale.run("status", "--no-such-flag", cwd=project)
    assert "--no-such-flag" in str(caught.value)


def test_a_url_object_is_taken_as_its_text(project: Path, database: str) -> None:
    # pydantic-settings' DATABASE_URL is a PostgresDsn, SQLAlchemy's engine.url a URL whose str()
    # writes *** for the password (FastAPI trial: a bare TypeError).
    class Dsn:
        def __str__(self) -> str:
            return database

    assert shale.status(Dsn(), cwd=project).migrations[0].state == "pending"
    sqlalchemy = pytest.importorskip("sqlalchemy")
    url = sqlalchemy.engine.make_url(database.replace("postgresql://", "postgresql+psycopg2://"))
    assert shale.status(url, cwd=project).migrations[0].state == "pending"


def test_unreachable_server_raises_unavailable_error(project: Path) -> None:
    with pytest.raises(shale.UnavailableError) as caught:
        shale.status("postgresql://postgres@127.0.0.1:1/postgres?connect_timeout=2", cwd=project)
    assert caught.value.exit_code == 3 and "could not connect" in str(caught.value)


def test_the_url_given_is_kept_out_of_the_process_list(project: Path) -> None:
    # The URL reaches the binary in its environment: neither its arguments (which ps shows to every
    # user of the machine) nor the error carry the password.
    with pytest.raises(shale.UnavailableError) as caught:
        shale.status("postgresql://app:s3cret-pw@127.0.0.1:1/postgres?connect_timeout=2", cwd=project)
    assert "s3cret-pw" not in " ".join(caught.value.command)
    assert "s3cret-pw" not in str(caught.value) and "app:***@" in str(caught.value)


def test_interrupted_run_raises_interrupted(project: Path, database: str) -> None:
    (project / "migrations" / "002_slow.sql").write_text("SELECT pg_sleep(60);\n")
    binary = shale.find_shale_bin()
    child = subprocess.Popen(
        [binary, "--json", "--database-url", database, "up"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    for _ in range(200):
        if psql(database, "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()") == "1":
            break
        __import__("time").sleep(0.1)
    child.send_signal(__import__("signal").SIGINT)
    out, err = child.communicate(timeout=30)
    error = shale._errors.error_for(child.returncode, shale._api._parse(out) or {}, err, [binary])
    assert isinstance(error, shale.Interrupted) and error.exit_code == 130, (out, err)
    assert error.applied == ["001 users"] or error.applied, error.json


def test_reads_shale_toml_and_dotenv_like_the_cli(tmp_path: Path, database: str) -> None:
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "0001_users.sql").write_text(USERS)
    (tmp_path / "shale.toml").write_text('dir = "db"\ndatabase_url_env = "APP_DATABASE_URL"\n')
    (tmp_path / ".env").write_text(f"APP_DATABASE_URL={database}\n")
    result = shale.up(cwd=tmp_path)
    assert result.versions == ["0001"]
    assert shale.status(cwd=tmp_path).current_version == "0001"
    # The real environment wins over .env, as on the command line.
    with pytest.raises(shale.UnavailableError):
        shale.status(cwd=tmp_path, env={"APP_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/x"})


def test_migration_lock_wait_and_its_former_name_lock_timeout(project: Path, database: str) -> None:
    assert shale.up(database, cwd=project, migration_lock_wait="5s").versions == ["001"]
    # lock_timeout= was its name: still passed on (as --migration-lock-wait), with a warning.
    with pytest.warns(DeprecationWarning, match="use migration_lock_wait="):
        assert shale.status(database, cwd=project, lock_timeout=5).current_version == "001"
    with pytest.raises(TypeError):
        shale.status(database, cwd=project, lock_timeout=5, migration_lock_wait=5)


def test_lint_returns_findings_and_never_raises_for_them(project: Path) -> None:
    (project / "migrations" / "002_index.sql").write_text("CREATE INDEX users_email ON users (email);\n")
    report = shale.lint(all=True, cwd=project)
    assert report.ok
    (project / "migrations" / "003_drop.sql").write_text("ALTER TABLE users DROP COLUMN email;\n")
    report = shale.lint(["migrations/003_drop.sql"], cwd=project)
    assert not report.ok
    assert [f.rule for f in report.errors] == ["destructive"], report.findings
    error = report.errors[0]
    assert error.path == "migrations/003_drop.sql" and error.line == 1 and error.why and error.fix
    (project / "migrations" / "004_syntax.sql").write_text("CREATE TABLE ((;\n")
    report = shale.lint(["migrations/004_syntax.sql"], cwd=project)
    assert not report.ok and report.syntax_errors[0].line == 1


def test_python_dash_m_shale_runs_the_binary(project: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "shale", "--version"], capture_output=True, text=True, cwd=project)
    assert proc.returncode == 0 and proc.stdout.startswith("shale "), proc.stderr
    assert proc.stdout.split()[1] == shale.__version__  # the wheel's version is the binary's
    assert os.path.basename(shale.find_shale_bin()).startswith("shale")


def test_down_generates_the_downs_a_history_lacks(tmp_path: Path, database: str) -> None:
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "001_users.sql").write_text("CREATE TABLE users (id bigint PRIMARY KEY);\n")
    (tmp_path / "migrations" / "002_email.sql").write_text("ALTER TABLE users ADD COLUMN email text;\n")
    shale.up(database, cwd=tmp_path)
    with pytest.raises(shale.ValidationError):
        shale.down(database, cwd=tmp_path, step=1)
    # (Of a table that holds no row, a generated down loses nothing, and runs.)
    psql(database, "INSERT INTO users VALUES (1, 'a@example.com')")
    with pytest.raises(shale.ValidationError):
        shale.down(database, cwd=tmp_path, step=1, generate=True)
    reverted = shale.down(database, cwd=tmp_path, all=True, generate=True, allow_destructive=True)
    assert reverted.versions == ["002", "001"]
    assert psql(database, "SELECT count(*) FROM pg_tables WHERE tablename = 'users'") == "0"


def test_drift_returns_the_differences_and_never_raises_for_them(
    project: Path, database: str, pg_server: object
) -> None:
    shale.up(database, cwd=project)
    dev_url = pg_server.url  # type: ignore[attr-defined]
    clean = shale.drift(database, cwd=project, dev_url=dev_url)
    assert isinstance(clean, shale.Drift) and not clean.drifted and clean.differences == []
    # A change nobody migrated (a column added by hand, or by the old tool still running).
    psql(database, "ALTER TABLE users ADD COLUMN phone text")
    drifted = shale.drift(database, cwd=project, dev_url=dev_url)
    assert drifted.drifted
    assert [(d.object, d.expected, d.actual) for d in drifted.differences] == [
        ("column public.users.phone", None, "text null")
    ]
    # What was not compared is said: a rule, of a kind shale does not read yet.
    assert clean.unread == []
    psql(database, "CREATE RULE users_keep AS ON DELETE TO users DO INSTEAD NOTHING")
    ruled = shale.drift(database, cwd=project, dev_url=dev_url)
    assert [(u["kind"], u["count"]) for u in ruled.unread] == [("rule", 1)]
    # A library's own schema, left out when asked.
    psql(database, "CREATE SCHEMA worker; CREATE TABLE worker.jobs (id int)")
    assert "table worker.jobs" in [d.object for d in shale.drift(database, cwd=project, dev_url=dev_url).differences]
    excluded = shale.drift(database, cwd=project, dev_url=dev_url, exclude_schemas=["worker"])
    assert "table worker.jobs" not in [d.object for d in excluded.differences]


def test_an_up_result_carries_a_code_tool_still_migrating() -> None:
    # What `up --json` says when the history of Alembic, Django, Knex, ... changed since the
    # baseline: an application migrating at start-up logs it from the result.
    document = {
        "steps": [],
        "current_version": "0002",
        "duration_ms": 5,
        "changed_since_baseline": [{"tool": "knex", "table": "public.knex_migrations", "baseline_at": None}],
    }
    result = shale.MigrateResult._from(document)
    assert [c["tool"] for c in result.changed_since_baseline] == ["knex"]
    assert shale.MigrateResult._from({"steps": []}).changed_since_baseline == []


def test_status_says_what_was_adopted_and_what_the_other_tool_did_since(project: Path, database: str) -> None:
    # A database dbmate migrated, taken over; then dbmate's migrate ran again somewhere.
    psql(
        database,
        "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);"
        " CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY);"
        " INSERT INTO schema_migrations VALUES ('001')",
    )
    shale.run("--database-url", database, "adopt", cwd=project)
    (project / "migrations" / "002_posts.sql").write_text("-- migrate:up\nCREATE TABLE posts (id int);\n")
    psql(database, "CREATE TABLE posts (id int); INSERT INTO schema_migrations VALUES ('002')")
    status = shale.status(database, cwd=project)
    users = status.migrations[0]
    assert users.adopted and users.adopted_from == "dbmate"
    assert not status.migrations[1].adopted
    assert status.applied_by_the_other_tool is not None
    assert status.applied_by_the_other_tool["tool"] == "dbmate"
    assert status.ran_by_both is None


def test_the_dev_url_given_is_kept_out_of_the_process_list(project: Path, database: str) -> None:
    shale.up(database, cwd=project)
    with pytest.raises(shale.ShaleError) as caught:
        shale.drift(database, cwd=project, dev_url="postgresql://dev:s3cret-dev@127.0.0.1:1/postgres?connect_timeout=2")
    assert "s3cret-dev" not in " ".join(caught.value.command or [])
    assert "s3cret-dev" not in str(caught.value)


def test_up_warns_where_a_code_tool_still_migrates(project: Path, database: str) -> None:
    # Alembic's history left at the baseline, changed since: up() warns, where an application's
    # log shows it (Django trial: only in the result).
    psql(
        database,
        "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);"
        " CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY); INSERT INTO alembic_version VALUES ('a1')",
    )
    shale.run("--database-url", database, "baseline", "001", "--force", "--reason", "built by Alembic", cwd=project)
    psql(database, "UPDATE alembic_version SET version_num = 'b2'")
    (project / "migrations" / "002_tags.sql").write_text("-- migrate:up\nCREATE TABLE tags (id int);\n")
    with pytest.warns(UserWarning, match="alembic's history"):
        result = shale.up(database, cwd=project)
    assert result.versions == ["002"]


def test_up_warns_where_the_adopted_tool_ran_a_migration_again(project: Path, database: str) -> None:
    # Its migrate left in the start-up beside up(): said by an up with nothing to apply (drizzle
    # trial: silent).
    psql(
        database,
        "CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL);"
        " CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY); INSERT INTO schema_migrations VALUES ('001')",
    )
    shale.run("--database-url", database, "adopt", cwd=project)
    (project / "migrations" / "002_tags.sql").write_text("-- migrate:up\nCREATE TABLE tags (id int);\n")
    shale.up(database, cwd=project)
    psql(database, "INSERT INTO schema_migrations VALUES ('002')")
    with pytest.warns(UserWarning, match="dbmate applied 002 tags too"):
        result = shale.up(database, cwd=project)
    assert result.versions == [] and result.ran_by_both["migrations"] == ["002 tags"]


def test_up_warns_of_an_empty_up_beside_a_down_with_sql(project: Path, database: str) -> None:
    # Its SQL written into the down file by mistake: said where an application's log shows it
    # (review: only the command line said it).
    (project / "migrations" / "002_locale.up.sql").write_text("-- up: locale\n")
    (project / "migrations" / "002_locale.down.sql").write_text("ALTER TABLE users ADD COLUMN locale text;\n")
    with pytest.warns(UserWarning, match="migration 002 locale was applied, but its up holds no statement"):
        result = shale.up(database, cwd=project)
    assert result.versions == ["001", "002"]
