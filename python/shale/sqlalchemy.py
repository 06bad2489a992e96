"""``python -m shale.sqlalchemy MODULE:ATTR``: the PostgreSQL DDL of SQLAlchemy models.

Prints the schema a SQLAlchemy ``MetaData`` (or a declarative base, or a ``Table``) describes, as
SQLAlchemy's own DDL compiler writes it for the postgresql dialect (``CreateTable``,
``CreateIndex``, the enum types, sequences and comments), in dependency order, with the DDL the
application attaches to ``before_create`` / ``after_create`` of the metadata or a table
(``event.listen(Base.metadata, "before_create", DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm"))``):
what ``metadata.create_all()`` would run on an empty database. It is a schema file for shale:

    shale diff --from migrations --to 'exec:python -m shale.sqlalchemy models:Base' --write NAME
    shale diff --from migrations --to 'exec:python -m shale.sqlalchemy models:Base' --exit-code

MODULE is imported from the working directory (it is put first on ``sys.path``); ATTR may be
dotted (``app.models.database:Base``, ``app.db:Base.metadata``).
"""

from __future__ import annotations

import argparse
import functools
import importlib
import os
import re
import sys
from typing import Any, Iterable, List, Optional, Sequence

__all__ = ["ddl", "load", "main"]


def load(spec: str) -> Any:
    """The object ``MODULE:ATTR`` names, MODULE imported from the working directory first."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"expected MODULE:ATTR (e.g. models:Base), got {spec!r}")
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ValueError(f"{module_name} has no attribute {attr!r}") from None
    return obj


def _tables(obj: Any) -> List[Any]:
    from sqlalchemy import MetaData, Table

    if isinstance(obj, MetaData):
        return list(obj.tables.values())
    if isinstance(obj, Table):
        return [obj]
    metadata = getattr(obj, "metadata", None)
    if isinstance(metadata, MetaData):
        return list(metadata.tables.values())
    if isinstance(obj, (list, tuple)) and all(isinstance(t, Table) for t in obj):
        return list(obj)
    raise TypeError(
        f"{obj!r} is not a SQLAlchemy MetaData, a declarative base (with .metadata) or a Table"
    )


def _no_tables_warning(target: str) -> str:
    """The usual cause of models with no tables: the modules declaring them were never imported
    (models register on the Base when their module runs), so the Base's metadata is empty."""
    module_name, _, attr = target.partition(":")
    package = module_name.rpartition(".")[0]
    guess = f"{package}.models" if package else "models"
    example = f" (e.g. {guess}:{attr})" if guess != module_name else ""
    return (
        f"warning: no tables in {target}: import the modules that define your models{example}, "
        "as Alembic's env.py does; the schema printed is empty, and a diff against it drops every table"
    )


def _create_enum(enum: Any, dialect: Any) -> str:
    try:  # SQLAlchemy 2.x
        from sqlalchemy.dialects.postgresql.named_types import CreateEnumType
    except ImportError:  # SQLAlchemy 1.4
        from sqlalchemy.dialects.postgresql.base import CreateEnumType  # type: ignore
    from sqlalchemy.dialects import postgresql

    native = enum if isinstance(enum, postgresql.ENUM) else postgresql.ENUM(
        *enum.enums, name=enum.name, schema=enum.schema
    )
    return str(CreateEnumType(native).compile(dialect=dialect))


def _from_sqlalchemy(listener: Any) -> bool:
    """A listener SQLAlchemy registers itself (an Enum's, which creates its type: printed above)."""
    if isinstance(listener, functools.partial):
        return _from_sqlalchemy(listener.func)
    names = [type(listener).__module__, getattr(listener, "__module__", None) or ""]
    # A bound method (SchemaType._on_metadata_create), or util.portable_instancemethod's target.
    for owner in (getattr(listener, "__self__", None), getattr(listener, "target", None)):
        if owner is not None:
            names.append(type(owner).__module__)
    return any(name.startswith("sqlalchemy") for name in names)


class _Recording:
    """The connection a listener function is given: what it executes is recorded, also through
    ``exec_driver_sql`` (which SQLAlchemy's own recording connection lacks); nothing is read back."""

    def __init__(self, connection: Any, captured: List[Any]) -> None:
        self._connection = connection
        self._captured = captured

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    def exec_driver_sql(self, statement: str, parameters: Any = None, *args: Any, **kw: Any) -> None:
        self._captured.append((str(statement), parameters))


def _literal(value: Any, dialect: Any) -> str:
    """``value`` as a SQL literal, as SQLAlchemy renders a bound value inline (bytes as a
    ``bytea`` literal, which SQLAlchemy would write as text)."""
    from sqlalchemy import literal

    if isinstance(value, (bytes, bytearray, memoryview)):
        return "'\\x" + bytes(value).hex() + "'::bytea"
    return str(literal(value).compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def _rows(parameters: Any) -> List[Any]:
    """The parameter sets of one execute: none, one (a dict or a tuple), or many (executemany)."""
    if parameters is None or (isinstance(parameters, (list, tuple)) and len(parameters) == 0):
        return [None]
    if isinstance(parameters, list) and all(isinstance(p, (dict, tuple, list)) for p in parameters):
        return list(parameters)
    return [parameters]


def _filled(statement: Any, parameters: Any, dialect: Any) -> List[str]:
    """The statements a listener executed, with the values it passed written in: printed with
    their placeholders (``%(name)s``), they failed where the DDL was run (a lookup table's rows
    inserted after its CREATE TABLE)."""
    from sqlalchemy import bindparam, literal, literal_column
    from sqlalchemy.sql.dml import Insert, Update
    from sqlalchemy.sql.elements import TextClause

    out = []
    for row in _rows(parameters):
        if isinstance(statement, str):
            text = statement
            if isinstance(row, dict):
                text = text % {k: _literal(v, dialect) for k, v in row.items()}
            elif isinstance(row, (tuple, list)):
                values = [_literal(v, dialect) for v in row]
                if "%s" in text:
                    text = text % tuple(values)
                else:  # asyncpg's $1, $2, ...: in one pass, so that a value holding `$1` stays as it is
                    text = re.sub(r"\$(\d+)", lambda m: values[int(m[1]) - 1], text)
            else:
                # SQLAlchemy hands psycopg2 an empty mapping, which formats the text (`%%` is a `%`);
                # a text that does not format (asyncpg's, with a lone `%`) is run as it is.
                try:
                    text = text % {}
                except (ValueError, TypeError, KeyError):
                    pass
        else:
            filled = statement
            if isinstance(row, dict) and isinstance(statement, (Insert, Update)):
                # Bytes as bytea literals: SQLAlchemy writes them as text.
                binary = (bytes, bytearray, memoryview)
                filled = statement.values(
                    {k: literal_column(_literal(v, dialect)) if isinstance(v, binary) else v for k, v in row.items()}
                )
            elif isinstance(row, dict) and isinstance(statement, TextClause):
                # Typed by their values: text()'s own are untyped, which cannot be written inline.
                filled = statement.bindparams(*(bindparam(k, v, type_=literal(v).type) for k, v in row.items()))
            elif isinstance(row, dict):
                filled = statement.params(row)
            text = str(filled.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        out.append(text.strip().rstrip(";") + ";")
    return out


def _event_ddl(target: Any, event: str, dialect: Any, **kw: Any) -> List[str]:
    """The statements the application's listeners of ``event`` on ``target`` run, as
    ``create_all()`` would run them: DDL elements and functions given a connection that records
    what it is asked to execute."""
    from sqlalchemy import create_mock_engine
    from sqlalchemy.schema import DDLElement

    listeners = [
        fn for fn in getattr(target.dispatch, event) if isinstance(fn, DDLElement) or not _from_sqlalchemy(fn)
    ]
    if not listeners:
        return []
    captured: List[Any] = []
    connection = create_mock_engine("postgresql://", lambda sql, *a, **k: captured.append((sql, a[0] if a else None)))
    for fn in listeners:
        given = connection if isinstance(fn, DDLElement) else _Recording(connection, captured)
        try:
            fn(target, given, checkfirst=False, **kw)
        except Exception as e:
            name = getattr(fn, "__qualname__", None) or type(fn).__name__
            raise ValueError(
                f"the {event} listener {name} of {getattr(target, 'name', None) or 'the metadata'} failed here, "
                f"where no database runs what it executes ({type(e).__name__}: {e}): a listener that reads a "
                "result cannot be printed; give what it makes as DDL(...), listened for as it is"
            ) from None
    out = []
    for statement, parameters in captured:
        try:
            out.extend(_filled(statement, parameters, dialect))
        except Exception as e:  # SQLAlchemy's CompileError among others: one line, not a traceback
            raise ValueError(
                f"a {event} listener of {getattr(target, 'name', None) or 'the metadata'} executed a statement "
                f"that cannot be written out with its values ({type(e).__name__}: {e}); give it as DDL(...), "
                "or pass values SQLAlchemy writes inline (strings, numbers, dates, bytes)"
            ) from None
    return out


def ddl(obj: Any) -> str:
    """The PostgreSQL DDL of ``obj`` (a MetaData, declarative base, Table or list of Tables)."""
    import sqlalchemy
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import (
        AddConstraint,
        CreateIndex,
        CreateSequence,
        CreateTable,
        SetColumnComment,
        SetTableComment,
        sort_tables_and_constraints,
    )

    # Named parameters: with psycopg2's (pyformat), every `%` in a default, a check or a value
    # was written doubled (`DEFAULT '50%%'`), and drift wrote a migration to "fix" it.
    dialect = postgresql.dialect(paramstyle="named")
    tables = _tables(obj)
    out: List[str] = []

    def emit(element: Any) -> None:
        text = str(element.compile(dialect=dialect)).strip()
        out.append(text + ";")

    from sqlalchemy import MetaData

    metadata = next((t.metadata for t in tables if isinstance(t.metadata, MetaData)), None)
    if metadata is not None:
        out.extend(_event_ddl(metadata, "before_create", dialect, tables=tables))

    # Schemas the tables name (public exists).
    for schema in sorted({t.schema for t in tables if t.schema and t.schema != "public"}):
        out.append(f"CREATE SCHEMA IF NOT EXISTS {dialect.identifier_preparer.quote_schema(schema)};")

    # Enum types, domains and sequences, before the tables that use them (as create_all does).
    try:  # SQLAlchemy 2.x: postgresql.DOMAIN
        from sqlalchemy.dialects.postgresql.named_types import DOMAIN, CreateDomainType
    except ImportError:  # SQLAlchemy 1.4 has no DOMAIN type
        DOMAIN, CreateDomainType = None, None
    seen_enums = set()
    seen_domains = set()
    seen_sequences = set()
    for table in sorted(tables, key=lambda t: (t.schema or "", t.name)):
        for column in table.columns:
            kind = column.type
            # (FastAPI round 3: a DOMAIN column's type was never made, and the models did not load.)
            if DOMAIN is not None and isinstance(kind, DOMAIN):
                key = (kind.schema or table.schema, kind.name)
                if key not in seen_domains:
                    seen_domains.add(key)
                    emit(CreateDomainType(kind))
            if isinstance(kind, sqlalchemy.Enum) and kind.native_enum and kind.name:
                key = (kind.schema or table.schema, kind.name)
                if key not in seen_enums:
                    seen_enums.add(key)
                    out.append(_create_enum(kind, dialect).strip() + ";")
            sequence = getattr(column, "default", None)
            if isinstance(sequence, sqlalchemy.Sequence) and not getattr(sequence, "optional", False):
                key = (sequence.schema or table.schema, sequence.name)
                if key not in seen_sequences:
                    seen_sequences.add(key)
                    emit(CreateSequence(sequence))

    # Tables in dependency order; foreign keys of a cycle are added afterwards.
    leftover: List[Any] = []
    for table, constraints in sort_tables_and_constraints(tables):
        if table is None:
            leftover.extend(constraints)
            continue
        out.extend(_event_ddl(table, "before_create", dialect))
        emit(CreateTable(table, include_foreign_key_constraints=constraints))
        if table.comment is not None:
            emit(SetTableComment(table))
        for column in table.columns:
            if column.comment is not None:
                emit(SetColumnComment(column))
        for index in sorted(table.indexes, key=lambda i: i.name or ""):
            emit(CreateIndex(index))
        out.extend(_event_ddl(table, "after_create", dialect))
    for constraint in leftover:
        emit(AddConstraint(constraint))
    if metadata is not None:
        out.extend(_event_ddl(metadata, "after_create", dialect, tables=tables))
    return "\n\n".join(out) + "\n"


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shale.sqlalchemy",
        description="Print the PostgreSQL DDL of SQLAlchemy models (a MetaData or declarative base), "
        "as SQLAlchemy's DDL compiler writes it, in dependency order.",
    )
    parser.add_argument("target", metavar="MODULE:ATTR", help="e.g. models:Base or app.db:metadata")
    args = parser.parse_args(argv)
    try:
        import sqlalchemy
    except ImportError:
        print("error: SQLAlchemy is not installed (pip install sqlalchemy)", file=sys.stderr)
        return 2
    try:
        obj = load(args.target)
        text = ddl(obj)
        empty = not _tables(obj)
    except (ImportError, ValueError, TypeError) as e:
        print(f"error: {args.target}: {e}", file=sys.stderr)
        return 2
    if empty:
        # Not an error: a new project may have no tables yet. But a diff against it drops every
        # table, so say it where `shale diff` and `shale drift` show it (they pass stderr through).
        print(_no_tables_warning(args.target), file=sys.stderr)
    sys.stdout.write(
        f"-- The PostgreSQL DDL of {args.target} (SQLAlchemy {sqlalchemy.__version__}, postgresql dialect),\n"
        "-- written by `python -m shale.sqlalchemy`.\n\n"
    )
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
