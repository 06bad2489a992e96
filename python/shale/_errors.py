"""Errors raised by the API, one class per exit code of the shale binary.

| exit code | class               | meaning                                                   |
| --------- | ------------------- | --------------------------------------------------------- |
| 1         | MigrationError      | a migration failed (rolled back: nothing of it applied)   |
| 2         | ValidationError     | usage, configuration or validation error: nothing applied |
| 3         | UnavailableError    | could not connect, or could not get the migration lock    |
| 130       | Interrupted         | stopped by Ctrl-C or SIGTERM                              |

Each carries what the CLI's ``--json`` error document says (``ShaleError.json``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

EXIT_FAILED = 1
EXIT_INVALID = 2
EXIT_UNAVAILABLE = 3
EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class Problem:
    """One problem in the migration files or between them and the history (exit 2)."""

    message: str
    path: Optional[str] = None
    line: Optional[int] = None
    column: Optional[int] = None
    hint: Optional[str] = None


class ShaleWarning(UserWarning):
    """What a shale command warns of (another tool still migrating, a seed it does not run): a
    category of its own, to filter or turn into errors (``warnings.simplefilter("error",
    shale.ShaleWarning)``), as Node's package emits ``ShaleWarning``."""


class ShaleError(Exception):
    """Any failure of a shale command.

    ``message`` is what the CLI says (it names the file, line and column where it knows them),
    ``exit_code`` the binary's exit status, ``json`` its ``--json`` error document (``{}`` when it
    printed none, e.g. for a usage error), ``stderr`` what it wrote there, ``args`` the command.
    """

    exit_code: int
    message: str
    json: Dict[str, Any]
    stderr: str
    command: List[str]

    def __init__(
        self,
        message: str,
        *,
        exit_code: int,
        json: Optional[Dict[str, Any]] = None,
        stderr: str = "",
        command: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.json = dict(json or {})
        self.stderr = stderr
        self.command = list(command)

    def __str__(self) -> str:
        return self.message


class MigrationError(ShaleError):
    """A migration failed (exit 1). Its transaction was rolled back (``rolled_back``).

    ``file``, ``line`` and ``column`` point at the statement that failed (``line_text`` is that
    line), ``sqlstate`` is PostgreSQL's error code, ``pg_message`` its message, ``detail`` and
    ``hint`` the server's, ``remedy`` shale's advice, ``migration`` the migration ("003 add_x").
    ``message`` is the whole sentence: ``migration 003 add_x failed at migrations/003_add_x.sql:2:1: ...``.
    """

    migration: Optional[str]
    file: Optional[str]
    line: Optional[int]
    column: Optional[int]
    line_text: Optional[str]
    sqlstate: Optional[str]
    pg_message: Optional[str]
    detail: Optional[str]
    hint: Optional[str]
    context: Optional[str]
    statement: Optional[str]
    remedy: Optional[str]
    rolled_back: Optional[bool]

    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        failure = self.json.get("failure") or {}
        location = failure.get("location") or {}
        self.migration = self.json.get("migration")
        self.file = location.get("path") or self.json.get("path")
        self.line = location.get("line")
        self.column = location.get("column")
        self.line_text = location.get("line_text")
        self.sqlstate = failure.get("sqlstate")
        self.pg_message = failure.get("message")
        self.detail = failure.get("detail")
        self.hint = failure.get("hint")
        self.context = failure.get("context")
        self.statement = failure.get("statement") or self.json.get("statement")
        self.remedy = failure.get("remedy")
        self.rolled_back = failure.get("rolled_back")

    @property
    def location(self) -> Optional[str]:
        """``file:line:column``, when shale knows where the failure is."""
        if not self.file:
            return None
        parts = [self.file] + [str(p) for p in (self.line, self.column) if p is not None]
        return ":".join(parts)


class ValidationError(ShaleError):
    """Usage, configuration or validation error (exit 2): nothing was applied.

    ``problems`` lists each problem the CLI found (bad files with path, line and column; files
    changed or missing after they were applied; ...).
    """

    problems: List[Problem]

    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.problems = [
            Problem(
                message=p.get("message", ""),
                path=p.get("path"),
                line=p.get("line"),
                column=p.get("column"),
                hint=p.get("hint"),
            )
            for p in self.json.get("problems") or []
        ]


class UnavailableError(ShaleError):
    """Could not connect, or could not get the migration lock (exit 3): worth retrying."""


class Interrupted(ShaleError):
    """Stopped by Ctrl-C or SIGTERM (exit 130). ``applied`` were committed before the stop."""

    @property
    def applied(self) -> List[str]:
        return list(self.json.get("applied") or [])


_BY_CODE = {
    EXIT_FAILED: MigrationError,
    EXIT_INVALID: ValidationError,
    EXIT_UNAVAILABLE: UnavailableError,
    EXIT_INTERRUPTED: Interrupted,
}


def _error_lines(stderr: str) -> str:
    """What the CLI said of the error: from its ``error:`` line on, without the warnings and notes
    before it (the Django trial: a warning stood where the error should be); all of it where no
    line says ``error:``."""
    lines = stderr.strip().splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("error:")), 0)
    return "\n".join(lines[start:]).strip()


def _problems_line(json: Dict[str, Any]) -> str:
    """A check's document (``validate --json``) says what failed in its ``problems``, with no
    ``message``: each named (the Django re-check: the message was "shale exited with 1")."""
    problems = [p for p in json.get("problems") or [] if isinstance(p, dict)]
    if not problems:
        return ""
    named = []
    for p in problems:
        words = p.get("message") or " ".join(str(p[k]) for k in ("version", "name", "state") if p.get(k))
        named.append(f"{p.get('path')}: {words}" if p.get("path") and not p.get("message") else words)
    return f"{len(problems)} problem(s): " + "; ".join(named)


def _with_first_problem(message: Optional[str], json: Dict[str, Any]) -> Optional[str]:
    """A count of problems (``1 problem(s) in the migration files``) with the first of them, where
    the message does not name it: a log line is often all an operator sees (Django round 3: a
    gunicorn log said only the count)."""
    problems = [p for p in json.get("problems") or [] if isinstance(p, dict) and p.get("message")]
    if not message or not problems or problems[0]["message"] in message:
        return message
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    first = problems[0]
    where = first.get("path")
    if where and first.get("line"):
        where = f"{where}:{first['line']}" + (f":{first['column']}" if first.get("column") else "")
    return f"{message}: {where + ': ' if where and where not in first['message'] else ''}{first['message']}{more}"


def error_for(exit_code: int, json: Dict[str, Any], stderr: str, command: Sequence[str]) -> ShaleError:
    """The exception for a failed run: its class by exit code, its fields from the JSON document."""
    message = _with_first_problem(json.get("message"), json) or _problems_line(json) or _error_lines(stderr) \
        or f"shale exited with {exit_code}"
    if exit_code < 0:
        message = f"shale was killed by signal {-exit_code}" + (f": {stderr.strip()}" if stderr.strip() else "")
    cls = _BY_CODE.get(exit_code, ShaleError)
    return cls(message, exit_code=exit_code, json=json, stderr=stderr, command=command)
