#!/usr/bin/env bash
# What an ALTER TABLE on a busy table costs the application: pgbench clients read the table
# while a report holds it for a few seconds, and the migration runs in the middle of that.
#
#   bench/lockwait.sh        R=3 runs per way (median of each figure); see bench/README.md
#
# Ways compared in the same run: psql (queues for the lock, as every migration tool does),
# `shale up --lock-acquire queue --session-lock-timeout 500ms` (queueing with a short lock_timeout,
# retried with backoff: what shale did before), and `shale up` (waits without queueing, tries for 50 ms).
# Environment: R (runs, default 3), CLIENTS (pgbench clients, default 4), HOLD (seconds the report
# holds the table, default 3), SKIP_BUILD=1, KEEP=1, RESULTS (default bench/results/latest.md).
set -euo pipefail
R=${R:-3}
CLIENTS=${CLIENTS:-4}
HOLD=${HOLD:-3}
[[ $R =~ ^[1-9][0-9]*$ && $CLIENTS =~ ^[1-9][0-9]*$ && $HOLD =~ ^[0-9]+(\.[0-9]+)?$ ]] ||
    { echo "bench: R and CLIENTS must be positive integers, HOLD a number of seconds" >&2; exit 2; }

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PGBENCH=${PGBENCH:-$(command -v pgbench || true)}

bench_begin
[[ -x $PGBENCH ]] || PGBENCH=$(dirname "$PSQL")/pgbench
[[ -x $PGBENCH ]] || bench_die "no pgbench next to psql or on PATH (it comes with the PostgreSQL server packages)"

SECTION=$BENCH_TMP/lockwait.md
python3 "$ROOT/bench/lockwait.py" --runs "$R" --clients "$CLIENTS" --hold "$HOLD" \
    --psql "$PSQL" --pgbench "$PGBENCH" --shale "$SHALE" --work "$BENCH_TMP" \
    --url-template "$(bench_db_url DBNAME)" >"$SECTION"
cat "$SECTION"
bench_write_section "$RESULTS" lockwait "$SECTION"
bench_log "wrote the lockwait section of $RESULTS"
