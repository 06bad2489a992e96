# Shared by the benchmarks of bench/ (sourced, not run).
#
# Sets ROOT (the repository), SHALE (target/release/shale) and, after bench_start_server:
# BENCH_TMP (a private temp dir under /tmp), BENCH_PROJECT (the throwaway project whose
# .shale/dev holds the server), BENCH_PGDATA, BENCH_LOG (the server log), BENCH_URL (the URL
# `shale dev start` printed), BENCH_PORT, BENCH_SOCKET_DIR, PSQL.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHALE=$ROOT/target/release/shale

# The measured commands must see only what the command line says: no PG* variables (PGOPTIONS
# would change every session), no DATABASE_URL.
while IFS= read -r _var; do unset "$_var"; done < <(compgen -e | grep -E '^PG[A-Z_]*$' || true)
unset DATABASE_URL _var

bench_log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
bench_die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

# bench_write_section RESULTS NAME FILE: put FILE (which starts with `<!-- NAME:start` and ends
# with `<!-- NAME:end -->`) into RESULTS, replacing that section or appending it, so that each
# script rewrites only its own part of the results file.
bench_write_section() {
    mkdir -p "$(dirname "$1")"
    touch "$1"
    python3 - "$1" "$2" "$3" <<'PY'
import re, sys
results, name, section = sys.argv[1], sys.argv[2], open(sys.argv[3]).read()
text = open(results).read()
pattern = re.compile(r"<!-- " + re.escape(name) + r":start.*?<!-- " + re.escape(name) + r":end -->\n?", re.S)
text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
open(results, "w").write(text)
PY
}

# What every benchmark does first, from the repository: the results file (RESULTS, by default
# bench/results/latest.md), the load average at the start (LOAD_START), the release build, and
# the server, stopped when the script exits.
bench_begin() {
    cd "$ROOT"
    RESULTS=${RESULTS:-$ROOT/bench/results/latest.md}
    LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
    bench_build
    trap bench_stop_server EXIT
    bench_start_server
}

# The only build the benchmark does (one package, release profile; never --workspace).
bench_build() {
    if [[ ${SKIP_BUILD:-0} == 1 ]]; then
        bench_log "SKIP_BUILD=1: using the existing $SHALE"
    else
        bench_log "cargo build --release -p shale-cli"
        (cd "$ROOT" && cargo build --release -p shale-cli)
    fi
    [[ -x $SHALE ]] || bench_die "$SHALE is missing; build it with: cargo build --release -p shale-cli"
}

# Start a throwaway development server with `shale dev start`, run from a temporary project
# directory so that its .shale/dev lives under /tmp. As root the server runs as the postgres
# user, which must be able to enter every parent directory: /tmp (1777) and ours (755).
bench_start_server() {
    BENCH_TMP=$(mktemp -d -t shale-bench.XXXXXX)
    chmod 755 "$BENCH_TMP"
    BENCH_PROJECT=$BENCH_TMP/project
    mkdir -m 755 "$BENCH_PROJECT"
    if [[ $(id -u) == 0 ]]; then
        id postgres >/dev/null 2>&1 || bench_die "running as root needs a 'postgres' system user for the server"
        su -s /bin/sh postgres -c "test -x '$BENCH_PROJECT'" ||
            bench_die "user postgres cannot enter $BENCH_PROJECT; every parent directory needs mode 755 (or o+x)"
    fi
    bench_log "starting a throwaway server: (cd $BENCH_PROJECT && shale --dev dev start)"
    BENCH_URL=$(cd "$BENCH_PROJECT" && "$SHALE" -q --dev dev start) ||
        bench_die "shale dev start failed"
    BENCH_PGDATA=$BENCH_PROJECT/.shale/dev
    BENCH_LOG=$BENCH_PGDATA/shale-dev.log
    # postgresql://postgres@%2Fsocket%2Fdir:PORT/postgres (the dev server listens on its socket only)
    local re='^postgres(ql)?://[^@/]*@(%2F[^:/]*):([0-9]+)/[^?]*$'
    [[ $BENCH_URL =~ $re ]] || bench_die "unexpected URL from shale dev start: $BENCH_URL"
    BENCH_SOCKET_ENC=${BASH_REMATCH[2]}
    BENCH_PORT=${BASH_REMATCH[3]}
    BENCH_SOCKET_DIR=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.unquote(sys.argv[1]))' "$BENCH_SOCKET_ENC")
    # psql from the server's own bindir (postmaster.opts starts with the postgres binary), else PATH.
    local postgres_bin bindir
    postgres_bin=$(awk 'NR == 1 { print $1; exit }' "$BENCH_PGDATA/postmaster.opts" 2>/dev/null || true)
    postgres_bin=${postgres_bin//\"/}
    bindir=$(dirname "${postgres_bin:-/nonexistent/x}")
    if [[ -x $bindir/psql ]]; then
        PSQL=$bindir/psql
    else
        PSQL=$(command -v psql) || bench_die "no psql in $bindir or on PATH"
    fi
    bench_log "server up: $BENCH_URL (psql: $PSQL)"
}

bench_stop_server() {
    [[ -n ${BENCH_PROJECT:-} && -d ${BENCH_PROJECT:-/nonexistent} ]] || return 0
    (cd "$BENCH_PROJECT" && "$SHALE" -q dev stop) || bench_log "warning: shale dev stop failed"
    if [[ ${KEEP:-0} == 1 ]]; then
        bench_log "KEEP=1: left $BENCH_TMP in place"
    else
        rm -rf "$BENCH_TMP"
    fi
}

# URL of database $1 on the benchmark server, used by psql and shale alike: over the Unix socket
# (libpq and shale both let ?host=/dir override the host part).
bench_db_url() {
    printf 'postgresql://postgres@localhost:%s/%s?host=%s' "$BENCH_PORT" "$1" "$BENCH_SOCKET_ENC"
}

# psql as an administrator on the postgres database: quiet, unaligned, tuples only, stop on error.
bench_psql() {
    "$PSQL" -X -q -A -t -v ON_ERROR_STOP=1 -d "$(bench_db_url postgres)" "$@"
}

# Drop (if present) and create database $1, then CHECKPOINT so the next timed run starts clean.
bench_recreate_db() {
    bench_psql -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" -c "CREATE DATABASE \"$1\"" -c "CHECKPOINT" >/dev/null
}

# Round trips a no-op `shale up` makes after connecting, counted in the server log.
#
#   bench_count_roundtrips DB MIGRATIONS_DIR    (DB must already have every migration applied)
#
# Turns on log_min_duration_statement = 0 and log_line_prefix = '%m [%p] %a ' (ALTER SYSTEM,
# reload), logs a marker from psql, runs `shale up -q` once, logs a second marker, then counts
# the server log entries of application `shale` between the markers: each simple query is one
# `duration: ... statement:` entry and one round trip; an extended-protocol query logs
# `parse` (one round trip: Parse/Describe/Sync) and `bind` + `execute` (one more). The startup
# packet and authentication are not statements. Restores the settings afterwards. Prints a
# JSON object {round_trips, statements: [...], ...} on stdout; the statements go to stderr too.
bench_count_roundtrips() {
    local db=$1 dir=$2 token url
    token=marker-$$-$RANDOM$RANDOM
    url=$(bench_db_url "$db")
    bench_psql -c "ALTER SYSTEM SET log_min_duration_statement = 0" \
        -c "ALTER SYSTEM SET log_line_prefix = '%m [%p] %a '" -c "SELECT pg_reload_conf()" >/dev/null
    local i
    for i in $(seq 1 50); do
        [[ $(bench_psql -c "SELECT current_setting('log_min_duration_statement') || '|' || current_setting('log_line_prefix')") == "0|%m [%p] %a " ]] && break
        sleep 0.1
    done
    "$PSQL" -X -q -A -t -d "$url" -c "SELECT '$token-start'" >/dev/null
    (cd "$BENCH_PROJECT" && "$SHALE" --database-url "$url" --dir "$dir" up -q)
    "$PSQL" -X -q -A -t -d "$url" -c "SELECT '$token-end'" >/dev/null
    bench_psql -c "ALTER SYSTEM RESET log_min_duration_statement" \
        -c "ALTER SYSTEM RESET log_line_prefix" -c "SELECT pg_reload_conf()" >/dev/null
    python3 - "$BENCH_LOG" "$token" <<'PY'
import json, re, sys

log_path, token = sys.argv[1], sys.argv[2]
# '%m [%p] %a ' then 'LOG:  ...'; %m is e.g. '2025-11-25 04:51:00.123 UTC'.
head = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \S+ \[(\d+)\] (.*?) ?"
                  r"(LOG|ERROR|WARNING|NOTICE|INFO|FATAL|PANIC|DETAIL|HINT|CONTEXT|STATEMENT|DEBUG\d?):  (.*)$")
entries = []  # [pid, app, level, text]
with open(log_path, encoding="utf-8", errors="replace") as f:
    for line in f:
        line = line.rstrip("\n")
        m = head.match(line)
        if m:
            entries.append([m.group(1), m.group(2), m.group(3), m.group(4)])
        elif entries:
            entries[-1][3] += "\n" + line  # continuation of a multi-line statement
start = next((i for i, e in enumerate(entries) if f"'{token}-start'" in e[3]), None)
end = next((i for i, e in enumerate(entries) if f"'{token}-end'" in e[3]), None)
if start is None or end is None:
    sys.exit(f"count_roundtrips: markers {token}-start/-end not found in {log_path}")
statements, problems, by_app = [], [], {}
round_trips = 0
for pid, app, level, text in entries[start + 1:end]:
    # `shale`, and `shale (migration lock)` for the lock's own connection.
    if app != "shale" and not app.startswith("shale ("):
        continue
    if level == "ERROR":  # a failed query is a round trip too; it logs no duration
        round_trips += 1
        by_app[app] = by_app.get(app, 0) + 1
        problems.append(f"{level}: {text}")
        statements.append(f"(failed) {text}")
        continue
    if level in ("FATAL", "WARNING"):
        problems.append(f"{level}: {text}")
        continue
    # Only `duration:` entries count (a `statement:` entry from log_statement repeats one).
    m = re.match(r"duration: [\d.]+ ms  (statement|parse|bind|execute)\b(.*)", text, re.S)
    if not m:
        continue
    kind = m.group(1)
    if kind in ("statement", "parse", "execute"):
        round_trips += 1
        by_app[app] = by_app.get(app, 0) + 1
    statements.append(f"{kind}{m.group(2)}")
for s in statements:
    one_line = " ".join(s.split())
    print("  " + (one_line[:160] + " ..." if len(one_line) > 160 else one_line), file=sys.stderr)
print(json.dumps({"round_trips": round_trips, "by_application": by_app, "entries": len(statements),
                  "statements": statements, "problems": problems}))
PY
}
