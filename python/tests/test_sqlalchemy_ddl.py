"""`python -m shale.sqlalchemy`: SQLAlchemy's own DDL for the postgresql dialect, in dependency
order, loaded by `shale diff --to exec:...` on a real server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import shale
from conftest import psql

MODELS = '''
import enum
from sqlalchemy import (Column, Enum, ForeignKey, Integer, MetaData, String, Table, Text, Index,
                        Sequence, text)
from sqlalchemy.orm import DeclarativeBase, relationship

class Base(DeclarativeBase):
    pass

class Status(enum.Enum):
    draft = "draft"
    published = "published"

# Declared before the table it references: the output must still create authors first.
class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (Index("ix_posts_author_title", "author_id", "title"), {"comment": "blog posts"})
    id = Column(Integer, primary_key=True)
    author_id = Column(ForeignKey("app.authors.id", ondelete="CASCADE"), nullable=False, index=True)
    title = Column(String(200), nullable=False, comment="shown in lists")
    status = Column(Enum(Status, name="post_status"), nullable=False, server_default="draft")
    body = Column(Text)

class Author(Base):
    __tablename__ = "authors"
    __table_args__ = {"schema": "app"}
    id = Column(Integer, Sequence("author_ids", schema="app"), primary_key=True)
    email = Column(String(320), unique=True, nullable=False)
    # A cycle: the author's pinned post, added once both tables exist.
    pinned_post_id = Column(ForeignKey("posts.id", use_alter=True, name="fk_authors_pinned_post"))

metadata = Base.metadata
'''


def test_ddl_in_dependency_order_loads_into_an_empty_database(tmp_path: Path, database: str) -> None:
    (tmp_path / "models.py").write_text(MODELS)
    printed = subprocess.run(
        [sys.executable, "-m", "shale.sqlalchemy", "models:Base"], cwd=tmp_path, capture_output=True, text=True
    )
    assert printed.returncode == 0, printed.stderr
    sql = printed.stdout
    order = [sql.index(s) for s in (
        "CREATE SCHEMA IF NOT EXISTS app",
        "CREATE TYPE post_status AS ENUM ('draft', 'published')",
        "CREATE SEQUENCE app.author_ids",
        "CREATE TABLE app.authors",
        "CREATE TABLE posts",
        "CREATE INDEX ix_posts_author_id ON posts (author_id)",
        "ALTER TABLE app.authors ADD CONSTRAINT fk_authors_pinned_post",
    )]
    assert order == sorted(order), sql
    assert "COMMENT ON TABLE posts IS 'blog posts'" in sql
    assert "COMMENT ON COLUMN posts.title IS 'shown in lists'" in sql

    # MetaData and declarative base name the same schema.
    again = subprocess.run(
        [sys.executable, "-m", "shale.sqlalchemy", "models:metadata"], cwd=tmp_path, capture_output=True, text=True
    )
    assert again.stdout.split("\n", 2)[2] == sql.split("\n", 2)[2]

    # shale loads it on a throwaway server; written as a migration and applied, the database
    # equals the models.
    (tmp_path / "migrations").mkdir()
    models = f"exec:{sys.executable} -m shale.sqlalchemy models:Base"
    shale.run("--database-url", database, "diff", "--from", "migrations", "--to", models, "--write", "models", cwd=tmp_path)
    shale.up(database, cwd=tmp_path, force_unsafe=True)
    assert psql(database, "SELECT count(*) FROM pg_tables WHERE tablename IN ('authors', 'posts')") == "2"
    shale.run("--database-url", database, "diff", "--to", models, "--exit-code", cwd=tmp_path)
    shale.run("--database-url", database, "drift", "--against", models, cwd=tmp_path)


def test_a_domain_is_made_before_the_tables_that_use_it(tmp_path: Path, database: str) -> None:
    # The FastAPI round 3: a DOMAIN column's type was never made ("type code_t does not exist").
    (tmp_path / "models.py").write_text(
        "import sqlalchemy as sa\n"
        "from sqlalchemy.dialects.postgresql import DOMAIN\n"
        "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n\n"
        "class Base(DeclarativeBase):\n    pass\n\n"
        "Code = DOMAIN('code_t', sa.String(20), check=\"VALUE <> ''\")\n\n"
        "class Thing(Base):\n    __tablename__ = 'thing'\n"
        "    id: Mapped[int] = mapped_column(primary_key=True)\n"
        "    code = mapped_column(Code)\n    other = mapped_column(Code)\n"
    )
    printed = subprocess.run(
        [sys.executable, "-m", "shale.sqlalchemy", "models:Base"], cwd=tmp_path, capture_output=True, text=True
    )
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.count("CREATE DOMAIN code_t") == 1, printed.stdout
    assert printed.stdout.index("CREATE DOMAIN code_t") < printed.stdout.index("CREATE TABLE thing")
    (tmp_path / "migrations").mkdir()
    models = f"exec:{sys.executable} -m shale.sqlalchemy models:Base"
    shale.run("--database-url", database, "diff", "--from", "migrations", "--to", models, "--write", "models", cwd=tmp_path)
    shale.up(database, cwd=tmp_path, force_unsafe=True)
    assert psql(database, "SELECT count(*) FROM pg_type WHERE typname = 'code_t' AND typtype = 'd'") == "1"


def test_errors_name_the_target(tmp_path: Path) -> None:
    for target, expected in [("nosuchmodule:Base", "No module named"), ("models", "MODULE:ATTR"), ("models:Nope", "no attribute")]:
        (tmp_path / "models.py").write_text("X = 1\n")
        proc = subprocess.run(
            [sys.executable, "-m", "shale.sqlalchemy", target], cwd=tmp_path, capture_output=True, text=True
        )
        assert proc.returncode == 2 and expected in proc.stderr, proc.stderr
        assert proc.stdout == ""
    proc = subprocess.run([sys.executable, "-m", "shale.sqlalchemy", "models:X"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 2 and "not a SQLAlchemy MetaData" in proc.stderr


def test_a_base_with_no_tables_warns_and_shale_diff_shows_it(tmp_path: Path, database: str) -> None:
    # The models register on the Base only when their module is imported: app.db alone has none.
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "db.py").write_text(
        "from sqlalchemy.orm import DeclarativeBase\n\nclass Base(DeclarativeBase):\n    pass\n"
    )
    (tmp_path / "app" / "models.py").write_text(
        "from sqlalchemy import Column, Integer\nfrom app.db import Base\n\n"
        "class Thing(Base):\n    __tablename__ = 'thing'\n    id = Column(Integer, primary_key=True)\n"
    )
    warning = (
        "warning: no tables in app.db:Base: import the modules that define your models (e.g. app.models:Base), "
        "as Alembic's env.py does"
    )
    empty = subprocess.run(
        [sys.executable, "-m", "shale.sqlalchemy", "app.db:Base"], cwd=tmp_path, capture_output=True, text=True
    )
    # Not an error (a new project may have no tables yet), but said on stderr.
    assert empty.returncode == 0 and warning in empty.stderr, empty.stderr
    assert "CREATE" not in empty.stdout
    full = subprocess.run(
        [sys.executable, "-m", "shale.sqlalchemy", "app.models:Base"], cwd=tmp_path, capture_output=True, text=True
    )
    assert full.returncode == 0 and full.stderr == "" and "CREATE TABLE thing" in full.stdout, full.stderr

    # shale diff passes the command's stderr through: the user sees the warning above the DROP.
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "001_thing.sql").write_text("CREATE TABLE thing (id integer PRIMARY KEY);\n")
    models = f"exec:{sys.executable} -m shale.sqlalchemy app.db:Base"
    proc = shale.run("--database-url", database, "diff", "--from", "migrations", "--to", models, cwd=tmp_path)
    assert warning in proc.stderr, proc.stderr
    assert "DROP TABLE public.thing" in proc.stdout, proc.stdout


EVENT_MODELS = '''
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

class Base(DeclarativeBase):
    pass

# What create_all() runs first: the extension the trigram index needs.
sa.event.listen(Base.metadata, "before_create", sa.DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm"))

class Thing(Base):
    __tablename__ = "thing"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column()
    kind = mapped_column(sa.Enum("a", "b", name="thing_kind"))
    __table_args__ = (sa.Index("thing_name_trgm", "name", postgresql_using="gin", postgresql_ops={"name": "gin_trgm_ops"}),)

def _comment(target, connection, **kw):
    connection.execute(sa.text("COMMENT ON TABLE thing IS 'made by an after_create listener'"))

sa.event.listen(Thing.__table__, "after_create", _comment)
'''


def test_ddl_attached_to_create_events_is_printed_in_place(tmp_path: Path, database: str) -> None:
    # The FastAPI trial: an extension created in a before_create listener was left out, and the
    # models' trigram index failed to load ("operator class gin_trgm_ops does not exist").
    (tmp_path / "models.py").write_text(EVENT_MODELS)
    printed = subprocess.run(
        [sys.executable, "-m", "shale.sqlalchemy", "models:Base"], cwd=tmp_path, capture_output=True, text=True
    )
    assert printed.returncode == 0, printed.stderr
    sql = printed.stdout
    order = [sql.index(s) for s in (
        "CREATE EXTENSION IF NOT EXISTS pg_trgm;",
        "CREATE TYPE thing_kind",
        "CREATE TABLE thing",
        "CREATE INDEX thing_name_trgm",
        "COMMENT ON TABLE thing IS 'made by an after_create listener';",
    )]
    assert order == sorted(order), sql
    assert sql.count("CREATE TYPE thing_kind") == 1, "SQLAlchemy's own listener for the enum is not run again"
    (tmp_path / "migrations").mkdir()
    models = f"exec:{sys.executable} -m shale.sqlalchemy models:Base"
    shale.run("--database-url", database, "diff", "--from", "migrations", "--to", models, "--write", "models", cwd=tmp_path)
    shale.up(database, cwd=tmp_path, force_unsafe=True)
    assert psql(database, "SELECT obj_description('thing'::regclass)") == "made by an after_create listener"

    # Through exec_driver_sql too; a listener that reads a result is named, in one line (the
    # FastAPI re-check: a raw traceback).
    (tmp_path / "models.py").write_text(EVENT_MODELS.replace("connection.execute(sa.text(", "connection.exec_driver_sql((")
                                        + "\n\ndef _seed(target, connection, **kw):\n"
                                        "    if connection.execute(sa.text('SELECT count(*) FROM thing')).scalar() == 0:\n"
                                        "        pass\n\nsa.event.listen(Thing.__table__, 'after_create', _seed)\n")
    failed = subprocess.run(
        [sys.executable, "-m", "shale.sqlalchemy", "models:Base"], cwd=tmp_path, capture_output=True, text=True
    )
    assert failed.returncode == 2 and "the after_create listener _seed of thing failed here" in failed.stderr, failed.stderr
    assert "Traceback" not in failed.stderr


PARAMETER_MODELS = '''
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

class Base(DeclarativeBase):
    pass

class Status(Base):
    __tablename__ = "status"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(nullable=True, server_default=sa.text("'50%'"))
    __table_args__ = (sa.CheckConstraint("name NOT LIKE 'x%'", name="status_name_check"),)

def _rows(target, connection, **kw):
    connection.execute(target.insert(), [{"id": 1, "name": "new"}, {"id": 2, "name": "o'clock"}])
    connection.execute(sa.text("UPDATE status SET name = :name WHERE id = :id"), {"name": "open", "id": 1})
    connection.exec_driver_sql("INSERT INTO status VALUES (%(id)s, %(name)s)", {"id": 3, "name": "100%"})
    connection.exec_driver_sql("INSERT INTO status VALUES (%s, %s)", (4, None))
    connection.exec_driver_sql("INSERT INTO status VALUES (5, '5%%')")
    connection.exec_driver_sql("INSERT INTO status VALUES ($1, $2)", (6, "costs $1"))

sa.event.listen(Status.__table__, "after_create", _rows)
'''


def test_values_a_listener_passes_are_written_in(tmp_path: Path, database: str) -> None:
    # The FastAPI trial: a lookup table's rows inserted by an after_create listener were printed
    # with their placeholders (`%(name)s`), and the DDL failed where it was run.
    (tmp_path / "models.py").write_text(PARAMETER_MODELS)
    printed = subprocess.run(
        [sys.executable, "-m", "shale.sqlalchemy", "models:Base"], cwd=tmp_path, capture_output=True, text=True
    )
    assert printed.returncode == 0, printed.stderr
    sql = printed.stdout
    for expected in (
        "INSERT INTO status (id, name) VALUES (1, 'new');",
        "INSERT INTO status (id, name) VALUES (2, 'o''clock');",
        "UPDATE status SET name = 'open' WHERE id = 1;",
        "DEFAULT '50%'",
        "CHECK (name NOT LIKE 'x%')",
        "INSERT INTO status VALUES (3, '100%');",
        "INSERT INTO status VALUES (4, NULL);",
        "INSERT INTO status VALUES (5, '5%');",
        "INSERT INTO status VALUES (6, 'costs $1');",
    ):
        assert expected in sql, sql
    assert "%%" not in sql, sql
    psql(database, sql)
    assert psql(database, "SELECT string_agg(id || ':' || coalesce(name, '-'), ' ' ORDER BY id) FROM status") == \
        "1:open 2:o'clock 3:100% 4:- 5:5% 6:costs $1"
    # The database made from it is what the models say: no drift (a doubled `%` was one).
    models = f"exec:{sys.executable} -m shale.sqlalchemy models:Base"
    (tmp_path / "migrations").mkdir()
    proc = shale.run("--database-url", database, "diff", "--from", database, "--to", models, cwd=tmp_path)
    assert "no differences" in proc.stderr, proc.stdout + proc.stderr
    # A value SQLAlchemy cannot write inline (JSONB) is said in one line, not a traceback; bytes
    # are written as bytea.
    (tmp_path / "models.py").write_text(PARAMETER_MODELS.replace(
        "sa.event.listen(Status.__table__",
        "from sqlalchemy.dialects.postgresql import JSONB\n"
        "doc = sa.Table('doc', Base.metadata, sa.Column('id', sa.Integer, primary_key=True), sa.Column('body', JSONB),"
        " sa.Column('raw', sa.LargeBinary))\n"
        "sa.event.listen(doc, 'after_create', lambda t, c, **kw: c.execute(t.insert(), [{'id': 1, 'raw': b'\\x00\\x01'}]))\n"
        "sa.event.listen(Status.__table__"))
    printed = subprocess.run(
        [sys.executable, "-m", "shale.sqlalchemy", "models:Base"], cwd=tmp_path, capture_output=True, text=True
    )
    assert printed.returncode == 0 and "'\\x0001'::bytea" in printed.stdout, printed.stdout + printed.stderr
    (tmp_path / "models.py").write_text((tmp_path / "models.py").read_text().replace("'raw': b", "'body': {'a': 1}, 'raw': b"))
    failed = subprocess.run(
        [sys.executable, "-m", "shale.sqlalchemy", "models:Base"], cwd=tmp_path, capture_output=True, text=True
    )
    assert failed.returncode == 2 and "cannot be written out with its values" in failed.stderr, failed.stderr
    assert "Traceback" not in failed.stderr
