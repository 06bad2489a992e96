"""A typed API over the shale binary's ``--json`` output.

Every function runs the ``shale`` binary in the working directory (or ``cwd``), so it reads the
same ``shale.toml``, ``.env`` and environment variables (``DATABASE_URL``, the variable named by
``database_url_env``, ``PG*``) as the command line, takes the same migration lock and writes the
same history. Results are dataclasses parsed from the JSON document; failures raise the
``ShaleError`` subclass of the exit code (see ``shale._errors``).
"""

from __future__ import annotations

import datetime
import json as _json
import os
import subprocess
import warnings
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from ._binary import find_shale_bin
from ._errors import ShaleError, ShaleWarning, error_for

Duration = Union[str, int, float, datetime.timedelta]
PathLike = Union[str, "os.PathLike[str]"]


# ---------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class Step:
    """One migration applied or reverted by ``up``/``down``."""

    #: None for a repeatable migration or a seed file, which have no version.
    version: Optional[str]
    name: str
    direction: str
    path: Optional[str]
    kind: str = "versioned"
    transactional: bool = True
    duration_ms: Optional[int] = None

    @classmethod
    def _from(cls, d: Mapping[str, Any]) -> "Step":
        return cls(
            version=d.get("version", ""),
            name=d.get("name", ""),
            direction=d.get("direction", ""),
            path=d.get("path"),
            kind=d.get("kind", "versioned"),
            transactional=bool(d.get("transactional", True)),
            duration_ms=d.get("duration_ms"),
        )


@dataclass(frozen=True)
class MigrateResult:
    """What ``up`` or ``down`` did: the steps in order, and the version the database is at."""

    steps: List[Step]
    current_version: Optional[str]
    duration_ms: Optional[int]
    #: An ``up`` that applied something: the histories of tools whose migrations are code
    #: (Alembic, Django, Knex, ...) that changed since the baseline, as ``Status`` has them: that
    #: tool still migrates this database somewhere. Worth logging at start-up.
    changed_since_baseline: List[Dict[str, Any]] = field(default_factory=list)
    #: Where shale took another tool's history over: migrations shale applied that the tool applied
    #: too since (``{"tool", "table", "migrations"}``), said by an ``up`` with nothing to apply.
    ran_by_both: Optional[Dict[str, Any]] = None
    #: Where shale took another tool's history over: migrations shale counts as applied that the
    #: tool reverted since.
    reverted_by_the_other_tool: Optional[Dict[str, Any]] = None
    #: ``up(seed=True)``: what the seeds run after the migrations did.
    seeds: Optional["MigrateResult"] = None
    #: ``up(backup=DIR)``: the dump written before anything was applied (None where nothing was).
    backup: Optional[str] = None
    json: Dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @property
    def versions(self) -> List[str]:
        """The versions applied (or reverted), in order: those of the steps that have one."""
        return [s.version for s in self.steps if s.version is not None]

    @classmethod
    def _from(cls, d: Mapping[str, Any]) -> "MigrateResult":
        return cls(
            steps=[Step._from(s) for s in d.get("steps") or []],
            current_version=d.get("current_version"),
            duration_ms=d.get("duration_ms"),
            changed_since_baseline=list(d.get("changed_since_baseline") or []),
            ran_by_both=d.get("ran_by_both"),
            reverted_by_the_other_tool=d.get("reverted_by_the_other_tool"),
            seeds=MigrateResult._from(d["seeds"]) if d.get("seeds") else None,
            backup=d.get("backup"),
            json=dict(d),
        )


@dataclass(frozen=True)
class LockEffect:
    """A lock a statement takes (``up(dry_run=True)``)."""

    line: Optional[int]
    table: str
    lock: str
    rewrites: bool
    scans: bool


@dataclass(frozen=True)
class PlannedStep:
    """One migration ``up(dry_run=True)`` would run."""

    #: None for a repeatable migration, which has no version.
    version: Optional[str]
    name: str
    direction: str
    path: Optional[str]
    transaction: str
    statements: Optional[int]
    locks: List[LockEffect]
    no_transaction_reason: Optional[str] = None


@dataclass(frozen=True)
class Plan:
    """``up(dry_run=True)``: what would run; ``refused`` when the safety linter would refuse it."""

    steps: List[PlannedStep]
    refused: bool
    refusal: Optional[str]
    json: Dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def _from(cls, d: Mapping[str, Any]) -> "Plan":
        steps = []
        for s in d.get("steps") or []:
            statements = s.get("statements")
            steps.append(
                PlannedStep(
                    version=s.get("version", ""),
                    name=s.get("name", ""),
                    direction=s.get("direction", ""),
                    path=s.get("path"),
                    transaction=s.get("transaction", ""),
                    statements=len(statements) if isinstance(statements, list) else statements,
                    locks=[
                        LockEffect(
                            line=lk.get("line"),
                            table=lk.get("table", ""),
                            lock=lk.get("lock", ""),
                            rewrites=bool(lk.get("rewrites")),
                            scans=bool(lk.get("scans")),
                        )
                        for lk in s.get("locks") or []
                    ],
                    no_transaction_reason=s.get("no_transaction_reason"),
                )
            )
        return cls(steps=steps, refused=bool(d.get("refused")), refusal=d.get("refusal"), json=dict(d))


@dataclass(frozen=True)
class Migration:
    """One migration in ``status()``: ``state`` is applied, pending, modified, missing, failed,
    out-of-order or baseline."""

    version: Optional[str]
    name: str
    kind: str
    state: str
    path: Optional[str]
    applied_at: Optional[str]
    duration_ms: Optional[int]
    error: Optional[str]
    #: Recorded by ``shale adopt`` from another tool's history: applied by that tool, not shale.
    adopted: bool = False
    adopted_from: Optional[str] = None

    @classmethod
    def _from(cls, d: Mapping[str, Any]) -> "Migration":
        return cls(
            version=d.get("version"),
            name=d.get("name", ""),
            kind=d.get("kind", ""),
            state=d.get("state", ""),
            path=d.get("path"),
            applied_at=d.get("applied_at"),
            duration_ms=d.get("duration_ms"),
            error=d.get("error"),
            adopted=bool(d.get("adopted")),
            adopted_from=d.get("adopted_from"),
        )


@dataclass(frozen=True)
class Status:
    """``status()``: every migration with its state, and the version the database is at."""

    current_version: Optional[str]
    history_exists: bool
    migrations: List[Migration]
    #: The histories of tools whose migrations are code (Alembic, Django, ...) that changed since the
    #: baseline, or appeared in a database shale built: that tool still migrates here. Each
    #: ``{"tool", "table", "baseline_at"}``.
    changed_since_baseline: List[Dict[str, Any]] = field(default_factory=list)
    #: The tool whose history shale took over applied these too, after shale had: its migrate still
    #: runs somewhere. ``{"tool", "table", "migrations"}``, or None.
    ran_by_both: Optional[Dict[str, Any]] = None
    #: That tool applied these, which shale has not: ``up`` refuses them until they are recorded
    #: (``"marked_by_baseline"``: the key of a baseline row it wrote since, which ran nothing).
    applied_by_the_other_tool: Optional[Dict[str, Any]] = None
    json: Dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @property
    def pending(self) -> List[Migration]:
        return [m for m in self.migrations if m.state == "pending"]

    @property
    def applied(self) -> List[Migration]:
        return [m for m in self.migrations if m.state in ("applied", "baseline")]

    @classmethod
    def _from(cls, d: Mapping[str, Any]) -> "Status":
        return cls(
            current_version=d.get("current_version"),
            history_exists=bool(d.get("history_exists")),
            migrations=[Migration._from(m) for m in d.get("migrations") or []],
            changed_since_baseline=list(d.get("changed_since_baseline") or []),
            ran_by_both=d.get("ran_by_both"),
            applied_by_the_other_tool=d.get("applied_by_the_other_tool"),
            json=dict(d),
        )


@dataclass(frozen=True)
class Finding:
    """A linter finding: what a statement locks, rewrites or destroys, why it matters and what to
    do instead. ``allowed`` when a ``-- shale:allow RULE`` comment covers it."""

    rule: str
    severity: str
    path: Optional[str]
    line: Optional[int]
    column: Optional[int]
    message: str
    why: str
    fix: str
    allowed: bool
    statement: str


@dataclass(frozen=True)
class SyntaxProblem:
    """A statement PostgreSQL's parser rejects."""

    path: Optional[str]
    line: Optional[int]
    column: Optional[int]
    message: str


@dataclass(frozen=True)
class LintReport:
    """``lint()``: ``ok`` is False when the CLI would exit 1 (an error finding that no
    ``-- shale:allow`` covers, or a syntax error)."""

    ok: bool
    findings: List[Finding]
    syntax_errors: List[SyntaxProblem]
    json: Dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @property
    def errors(self) -> List[Finding]:
        """The findings that make the check fail."""
        return [f for f in self.findings if f.severity == "error" and not f.allowed]

    @classmethod
    def _from(cls, d: Mapping[str, Any], ok: bool) -> "LintReport":
        return cls(
            ok=ok,
            findings=[
                Finding(
                    rule=f.get("rule", ""),
                    severity=f.get("severity", ""),
                    path=f.get("path"),
                    line=f.get("line"),
                    column=f.get("column"),
                    message=f.get("message", ""),
                    why=f.get("why", ""),
                    fix=f.get("fix", ""),
                    allowed=bool(f.get("allowed")),
                    statement=f.get("statement", ""),
                )
                for f in d.get("findings") or []
            ],
            syntax_errors=[
                SyntaxProblem(path=e.get("path"), line=e.get("line"), column=e.get("column"), message=e.get("message", ""))
                for e in d.get("syntax_errors") or []
            ],
            json=dict(d),
        )


@dataclass(frozen=True)
class Difference:
    """One object that differs: what the migrations (or the source compared with) build, and what
    the database has (``None`` where one side has no such object)."""

    object: str
    expected: Optional[str]
    actual: Optional[str]


@dataclass(frozen=True)
class Drift:
    """``drift()``: ``drifted`` is True when the database differs from what the migrations applied
    there build (or from ``against``); ``differences`` says where."""

    drifted: bool
    differences: List[Difference]
    #: The live database's objects of kinds shale does not read yet (rules, operator classes, ...),
    #: which were not compared: ``{"kind", "count", "names"}`` each.
    unread: List[Dict[str, Any]] = field(default_factory=list)
    json: Dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def _from(cls, d: Mapping[str, Any]) -> "Drift":
        return cls(
            drifted=bool(d.get("drifted")),
            differences=[
                Difference(object=x.get("object", ""), expected=x.get("expected"), actual=x.get("actual"))
                for x in d.get("differences") or []
            ],
            unread=list((d.get("unread") or {}).get("database") or []),
            json=dict(d),
        )


# ---------------------------------------------------------------------------------------------
# Running the binary


def _duration(value: Duration) -> str:
    if isinstance(value, datetime.timedelta):
        value = value.total_seconds()
    if isinstance(value, (int, float)):
        return f"{int(value * 1000)}ms"
    return str(value)


def _global_args(
    dir: Optional[PathLike],
    config: Optional[PathLike],
    dev: bool,
    wait: Optional[Duration],
    migration_lock_wait: Optional[Duration],
) -> List[str]:
    args: List[str] = []
    if dev:
        args.append("--dev")
    if dir is not None:
        args += ["--dir", os.fspath(dir)]
    if config is not None:
        args += ["--config", os.fspath(config)]
    if wait is not None:
        args += ["--wait", _duration(wait)]
    if migration_lock_wait is not None:
        args += ["--migration-lock-wait", _duration(migration_lock_wait)]
    return args


def run(
    *args: str,
    cwd: Optional[PathLike] = None,
    env: Optional[Mapping[str, str]] = None,
    check: bool = True,
) -> subprocess.CompletedProcess:
    """Run ``shale ARGS...`` (any command) and return the finished process, output captured as
    text. ``env`` adds to (and overrides) the current environment. With ``check`` a non-zero
    exit raises the ``ShaleError`` of its exit code."""
    command = [find_shale_bin(), *args]
    environment = None
    if env is not None:
        environment = dict(os.environ)
        environment.update(env)
    proc = subprocess.run(
        command,
        cwd=os.fspath(cwd) if cwd is not None else None,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    if check and proc.returncode != 0:
        raise _error(proc, command)
    return proc


def _parse(stdout: str) -> Optional[Dict[str, Any]]:
    text = stdout.strip()
    if not text:
        return None
    try:
        value = _json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _error(proc: subprocess.CompletedProcess, command: Sequence[str]) -> ShaleError:
    document = _parse(proc.stdout) or {}
    if document.get("ok") is not False:
        document = {}
    return error_for(proc.returncode, document, proc.stderr or "", command)


def _json_command(
    command: Sequence[str],
    common: Dict[str, Any],
    ok_codes: Sequence[int] = (0,),
) -> tuple:
    """Run ``shale --json GLOBALS COMMAND`` and return (exit code, JSON document)."""
    cwd = common.pop("cwd", None)
    env = common.pop("env", None)
    database_url = _url_text(common.pop("database_url", None))
    if database_url is not None:
        # In the environment, not on the command line, where any user of the machine could read
        # its password (ps); the CLI takes SHALE_DATABASE_URL as it takes --database-url.
        env = {**(env or {}), "SHALE_DATABASE_URL": database_url}
    args = ["--json", *_global_args(**common), *command]
    proc = run(*args, cwd=cwd, env=env, check=False)
    document = _parse(proc.stdout)
    if proc.returncode not in ok_codes or document is None or document.get("ok") is False:
        if proc.returncode == 0:
            raise ShaleError(
                f"shale printed no JSON document: {proc.stdout[:200]!r}",
                exit_code=0,
                stderr=proc.stderr,
                command=[find_shale_bin(), *args],
            )
        raise _error(proc, [find_shale_bin(), *args])
    return proc.returncode, document


def _url_text(url: Any) -> Optional[str]:
    """A database URL as text: a string as it is; SQLAlchemy's ``URL`` with its password (its
    ``str()`` writes ``***``); pydantic's ``PostgresDsn`` (pydantic-settings' ``DATABASE_URL``) and
    any other object by ``str()`` (FastAPI trial: a ``PostgresDsn`` raised a bare TypeError)."""
    if url is None or isinstance(url, str):
        return url
    render = getattr(url, "render_as_string", None)
    if callable(render):
        return render(hide_password=False)
    return str(url)


def _common(
    database_url: Optional[str],
    dir: Optional[PathLike],
    config: Optional[PathLike],
    dev: bool,
    wait: Optional[Duration],
    migration_lock_wait: Optional[Duration],
    lock_timeout: Optional[Duration],
    cwd: Optional[PathLike],
    env: Optional[Mapping[str, str]],
) -> Dict[str, Any]:
    if lock_timeout is not None:
        # The former name of migration_lock_wait; lock_timeout is PostgreSQL's lock_timeout
        # everywhere else (shale.toml, -- shale:lock-timeout).
        if migration_lock_wait is not None:
            raise TypeError("give migration_lock_wait, not lock_timeout (its former name) as well")
        warnings.warn(
            "lock_timeout= is deprecated: use migration_lock_wait=; PostgreSQL's lock_timeout is set "
            "with lock_timeout in shale.toml",
            DeprecationWarning,
            stacklevel=3,
        )
        migration_lock_wait = lock_timeout
    return dict(
        database_url=database_url,
        dir=dir,
        config=config,
        dev=dev,
        wait=wait,
        migration_lock_wait=migration_lock_wait,
        cwd=cwd,
        env=env,
    )


# ---------------------------------------------------------------------------------------------
# Commands
#
# Common keyword arguments (each maps to the CLI's global option of the same name; left out,
# the CLI decides from shale.toml, .env and the environment, exactly as on the command line):
#   database_url   --database-url (else DATABASE_URL, or the variable shale.toml names, else PG*)
#   dir            --dir (else `dir` in shale.toml, else "migrations")
#   config         --config (else shale.toml when present)
#   dev            --dev: the project's development PostgreSQL under .shale/dev
#   wait           --wait: keep trying to connect this long while the server starts ("30s", 30)
#   migration_lock_wait  --migration-lock-wait: how long to wait for another runner's migration
#                  lock ("10m", 600); ``lock_timeout`` is its former name, accepted with a
#                  DeprecationWarning
#   cwd            the directory to run in (where shale.toml and .env are read)
#   env            variables added to the environment of the run


def up(
    database_url: Optional[str] = None,
    dir: Optional[PathLike] = None,
    *,
    to: Optional[str] = None,
    step: Optional[int] = None,
    single_transaction: bool = False,
    allow_out_of_order: bool = False,
    force_unsafe: bool = False,
    seed: bool = False,
    backup: Optional[PathLike] = None,
    config: Optional[PathLike] = None,
    dev: bool = False,
    wait: Optional[Duration] = None,
    migration_lock_wait: Optional[Duration] = None,
    lock_timeout: Optional[Duration] = None,
    cwd: Optional[PathLike] = None,
    env: Optional[Mapping[str, str]] = None,
) -> MigrateResult:
    """Apply the pending migrations (``shale up``). Safe to call from every process of an
    application at start-up: runners serialize on the migration lock and each migration runs
    once. Raises ``MigrationError`` (with file, line, column, sqlstate) when one fails.
    ``backup``: a folder where a ``pg_dump`` of the database is written first, when something
    will be applied (``--backup``); the result's ``backup`` names the file."""
    command = ["up"]
    if backup is not None:
        command += ["--backup", str(backup)]
    if to is not None:
        command += ["--to", str(to)]
    if step is not None:
        command += ["--step", str(step)]
    if single_transaction:
        command.append("--single-transaction")
    if allow_out_of_order:
        command.append("--allow-out-of-order")
    if force_unsafe:
        command.append("--force-unsafe")
    if seed:
        command.append("--seed")
    _, document = _json_command(
        command, _common(database_url, dir, config, dev, wait, migration_lock_wait, lock_timeout, cwd, env)
    )
    result = MigrateResult._from(document)
    # Said where an application's log shows it, as the command line says it (Django trial: only
    # in the result, which a start-up hook throws away).
    # The command line's own warning, carried in the JSON: its way out differs by case (graphile
    # trial: these words advised `--direction adopt` where the tool had run every migration again).
    for changed in result.changed_since_baseline:
        # (A binary older than the package sends no text: review.)
        text = changed.get("warning") or (
            f"{changed.get('tool')}'s history ({changed.get('table')}) changed where shale did not: "
            "`shale status` says what to do"
        )
        warnings.warn(text, ShaleWarning, stacklevel=2)
    # The tool whose history shale took over reverted migrations shale counts as applied (Sqitch
    # trial: "up to date", unsaid).
    reverted = document.get("reverted_by_the_other_tool")
    if reverted:
        warnings.warn(
            f"{reverted.get('tool')} reverted {', '.join(reverted.get('migrations') or [])} since shale took its "
            f"history over ({reverted.get('table')} no longer has it), which shale counts as applied: its down still "
            "runs somewhere; stop it, check the database with `shale drift`; `shale status` says how to record "
            "what is true",
            ShaleWarning,
            stacklevel=2,
        )
    # Migrations shale applied that the tool it took over from applied too since (drizzle trial: a
    # start-up's own migrate beside `up()`, unsaid).
    both = document.get("ran_by_both")
    if both:
        warnings.warn(
            f"{both.get('tool')} applied {', '.join(both.get('migrations') or [])} too, after shale had "
            f"({both.get('table')} records it): its migrate still runs somewhere; stop it, and check what ran "
            "twice (`shale repair VERSION --applied --reason ...` then records that it was checked, and this "
            "warning ends)",
            ShaleWarning,
            stacklevel=2,
        )
    # An up left empty beside a down holding SQL (review: said by the command line alone).
    for empty in document.get("empty_ups") or []:
        again = "shale up --allow-out-of-order" if empty.get("later_applied") else "shale up"
        warnings.warn(
            f"{empty.get('path')}: migration {empty.get('label')} was applied, but its up holds no statement while "
            "its down does: if its SQL went into the down file by mistake, move it to the up file, then "
            f"`shale repair {empty.get('version')} --rolled-back --reason ...` and `{again}` run it",
            ShaleWarning,
            stacklevel=2,
        )
    # Seeds in code, which shale does not run (a Knex-style `seeds/01_users.js`).
    for ignored in (document.get("seeds") or {}).get("ignored") or []:
        warnings.warn(f"{ignored.get('path')}: ignored: {ignored.get('reason')}", ShaleWarning, stacklevel=2)
    return result


def plan(
    database_url: Optional[str] = None,
    dir: Optional[PathLike] = None,
    *,
    to: Optional[str] = None,
    step: Optional[int] = None,
    allow_out_of_order: bool = False,
    config: Optional[PathLike] = None,
    dev: bool = False,
    wait: Optional[Duration] = None,
    migration_lock_wait: Optional[Duration] = None,
    lock_timeout: Optional[Duration] = None,
    cwd: Optional[PathLike] = None,
    env: Optional[Mapping[str, str]] = None,
) -> Plan:
    """What ``up`` would run (``shale up --dry-run``), with each statement's locks; runs nothing.
    ``refused`` tells whether the safety linter would refuse it (the CLI's exit code 2)."""
    command = ["up", "--dry-run"]
    if to is not None:
        command += ["--to", str(to)]
    if step is not None:
        command += ["--step", str(step)]
    if allow_out_of_order:
        command.append("--allow-out-of-order")
    _, document = _json_command(
        command,
        _common(database_url, dir, config, dev, wait, migration_lock_wait, lock_timeout, cwd, env),
        ok_codes=(0, 2),
    )
    return Plan._from(document)


def down(
    database_url: Optional[str] = None,
    dir: Optional[PathLike] = None,
    *,
    step: Optional[int] = None,
    to: Optional[str] = None,
    all: bool = False,
    generate: bool = False,
    allow_destructive: bool = False,
    config: Optional[PathLike] = None,
    dev: bool = False,
    wait: Optional[Duration] = None,
    migration_lock_wait: Optional[Duration] = None,
    lock_timeout: Optional[Duration] = None,
    cwd: Optional[PathLike] = None,
    env: Optional[Mapping[str, str]] = None,
) -> MigrateResult:
    """Revert applied migrations, newest first (``shale down``): exactly one of ``step`` (that
    many), ``to`` (every migration newer than that version; "0" for all) or ``all=True``.
    ``generate=True`` reverts migrations that have no down too, with a down computed from the
    schemas before and after each (``--generate``); one that drops data runs only with
    ``allow_destructive=True``, else ``ValidationError`` and nothing runs."""
    chosen = [x for x in (step is not None, to is not None, all) if x]
    if len(chosen) != 1:
        raise TypeError("down() needs exactly one of step=N, to=VERSION or all=True")
    command = ["down"]
    if step is not None:
        command += ["--step", str(step)]
    if to is not None:
        command += ["--to", str(to)]
    if all:
        command.append("--all")
    if generate:
        command.append("--generate")
    if allow_destructive:
        command.append("--allow-destructive")
    _, document = _json_command(
        command, _common(database_url, dir, config, dev, wait, migration_lock_wait, lock_timeout, cwd, env)
    )
    return MigrateResult._from(document)


def status(
    database_url: Optional[str] = None,
    dir: Optional[PathLike] = None,
    *,
    config: Optional[PathLike] = None,
    dev: bool = False,
    wait: Optional[Duration] = None,
    migration_lock_wait: Optional[Duration] = None,
    lock_timeout: Optional[Duration] = None,
    cwd: Optional[PathLike] = None,
    env: Optional[Mapping[str, str]] = None,
) -> Status:
    """Every migration with its state (``shale status``)."""
    _, document = _json_command(
        ["status"], _common(database_url, dir, config, dev, wait, migration_lock_wait, lock_timeout, cwd, env)
    )
    return Status._from(document)


def lint(
    files: Optional[Sequence[PathLike]] = None,
    *,
    all: bool = False,
    since: Optional[str] = None,
    pg_version: Optional[int] = None,
    database_url: Optional[str] = None,
    dir: Optional[PathLike] = None,
    config: Optional[PathLike] = None,
    dev: bool = False,
    cwd: Optional[PathLike] = None,
    env: Optional[Mapping[str, str]] = None,
) -> LintReport:
    """What each migration locks, rewrites or destroys (``shale lint --format json``): the given
    files, every migration (``all=True``), those added since a git revision (``since``), or by
    default the pending ones (every one without a database). Findings never raise: check
    ``report.ok`` / ``report.errors``."""
    command = ["lint", "--format", "json"]
    if all:
        command.append("--all")
    if since is not None:
        command += ["--since", since]
    if pg_version is not None:
        command += ["--pg-version", str(pg_version)]
    command += [os.fspath(f) for f in files or []]
    code, document = _json_command(
        command,
        _common(database_url, dir, config, dev, None, None, None, cwd, env),
        ok_codes=(0, 1),
    )
    return LintReport._from(document, ok=code == 0)


def drift(
    database_url: Optional[str] = None,
    dir: Optional[PathLike] = None,
    *,
    against: Optional[str] = None,
    dev_url: Optional[str] = None,
    ignore: Sequence[str] = (),
    exclude_schemas: Sequence[str] = (),
    config: Optional[PathLike] = None,
    dev: bool = False,
    cwd: Optional[PathLike] = None,
    env: Optional[Mapping[str, str]] = None,
) -> Drift:
    """The live schema against what the migrations applied there build (``shale drift --json``),
    or against ``against`` (a schema file, or ``exec:python -m shale.sqlalchemy app.models:Base``:
    the application's models). A drift never raises: check ``result.drifted``. ``dev_url`` names
    the server for the scratch database the migrations are replayed on."""
    command = ["drift"]
    if against is not None:
        command += ["--against", against]
    # Left out on both sides: "defaults", "comments"; and whole schemas (a library's own). A
    # single name is taken as one, not as its letters (review).
    for what in [ignore] if isinstance(ignore, str) else ignore:
        command += ["--ignore", what]
    for schema in [exclude_schemas] if isinstance(exclude_schemas, str) else exclude_schemas:
        command += ["--exclude-schema", schema]
    if dev_url is not None:
        # In the environment, as the database URL: its password stays out of the process list
        # and of ShaleError.command (Django trial).
        env = {**(env or {}), "SHALE_DEV_URL": _url_text(dev_url)}
    _, document = _json_command(
        command,
        _common(database_url, dir, config, dev, None, None, None, cwd, env),
        ok_codes=(0, 1),
    )
    return Drift._from(document)
