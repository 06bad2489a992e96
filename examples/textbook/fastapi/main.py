"""The textbook backend's start-up on shale, in FastAPI: "Migrations run automatically when the
backend starts." The lifespan hook applies the pending migrations before the app serves; a
failed migration stops start-up with its file:line:column. Every process (uvicorn workers,
replicas) may run it at once: shale's migration lock lets one apply, the others wait and then
find nothing pending.

Environment: NEON_DATABASE_URL (as in the original project; read from .env too, like the CLI),
MIGRATIONS_DIR (default: ../migrations).

    NEON_DATABASE_URL=postgresql://... uvicorn main:app --port 8000
"""

from __future__ import annotations

import asyncio
import logging
import os
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator, List

from fastapi import FastAPI

import shale

log = logging.getLogger("textbook")
MIGRATIONS_DIR = os.environ.get("MIGRATIONS_DIR", str(Path(__file__).resolve().parent.parent / "migrations"))


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    try:
        # shale runs as a process: off the event loop, with the same lock and history as the CLI.
        result = await asyncio.to_thread(
            shale.up,
            os.environ.get("NEON_DATABASE_URL"),  # None: DATABASE_URL, shale.toml, .env, PG*
            MIGRATIONS_DIR,
            wait="30s",  # Neon may take a few seconds to wake a suspended compute
        )
    except shale.MigrationError as e:
        log.error("refusing to start: migration failed at %s: %s (SQLSTATE %s)", e.location, e.pg_message, e.sqlstate)
        raise
    except shale.ShaleError as e:
        log.error("refusing to start: %s", e)
        raise
    app.state.version = result.current_version
    app.state.applied: List[str] = result.versions
    log.warning(
        "database at version %s; this process applied %s",
        result.current_version,
        ", ".join(result.versions) or "nothing",
    )
    yield


app = FastAPI(title="Physical AI Textbook backend", lifespan=lifespan)


@app.get("/health")
def health() -> dict:
    return {"status": "healthy", "version": app.state.version, "applied_at_startup": app.state.applied}
