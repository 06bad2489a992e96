"""shale: PostgreSQL schema migrations from Python.

The package carries the ``shale`` binary and runs it with ``--json``: the functions below read the
same ``shale.toml``, ``.env`` and environment variables as the command line, take the same
migration lock and write the same history, and return dataclasses parsed from its output.

    import shale
    result = shale.up()                       # DATABASE_URL, shale.toml, .env, as the CLI
    result = shale.up(os.environ["NEON_DATABASE_URL"], dir="migrations")

Failures raise a ``ShaleError`` subclass by exit code: ``MigrationError`` (1: file, line,
column, sqlstate, message, hint), ``ValidationError`` (2), ``UnavailableError`` (3),
``Interrupted`` (130).
"""

from ._api import (
    Difference,
    Drift,
    Finding,
    LintReport,
    LockEffect,
    Migration,
    MigrateResult,
    Plan,
    PlannedStep,
    Status,
    Step,
    SyntaxProblem,
    down,
    drift,
    lint,
    plan,
    run,
    status,
    up,
)
from ._binary import find_shale_bin
from ._errors import (
    Interrupted,
    MigrationError,
    Problem,
    ShaleError,
    ShaleWarning,
    UnavailableError,
    ValidationError,
)


def __getattr__(name: str) -> str:
    # Read when asked for, not at import: importlib.metadata costs a third of `import shale`, which
    # an application pays at every start (the package trial: 55-65 ms).
    if name != "__version__":
        raise AttributeError(f"module 'shale' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("shale")
    except PackageNotFoundError:  # run from a source tree
        return "0+unknown"

__all__ = [
    "Difference",
    "Drift",
    "Finding",
    "Interrupted",
    "LintReport",
    "LockEffect",
    "Migration",
    "MigrateResult",
    "MigrationError",
    "Plan",
    "PlannedStep",
    "Problem",
    "ShaleError",
    "ShaleWarning",
    "Status",
    "Step",
    "SyntaxProblem",
    "UnavailableError",
    "ValidationError",
    "down",
    "drift",
    "find_shale_bin",
    "lint",
    "plan",
    "run",
    "status",
    "up",
]
