#!/usr/bin/env bash
# The shale benchmark: N generated migrations applied by psql (the floors) and by shale.
#
#   bench/run.sh [N]          N migrations (default 1000); see bench/README.md
#
# Environment: R (runs per measurement, default 5), SEED (workload seed), RSS_RUNS (default 1),
# TIMER (auto, python or hyperfine),
# SKIP_BUILD=1 (use the existing target/release/shale), KEEP=1 (keep the temp dir),
# RESULTS (default bench/results/latest.md).
set -euo pipefail

N=${1:-1000}
R=${R:-5}
SEED=${SEED:-20251125}
RSS_RUNS=${RSS_RUNS:-1}
TIMER=${TIMER:-auto}
[[ $N =~ ^[1-9][0-9]*$ ]] || { echo "usage: bench/run.sh [N]  (N: number of migrations, default 1000)" >&2; exit 2; }
[[ $R =~ ^[1-9][0-9]*$ ]] || { echo "bench: R must be a positive integer" >&2; exit 2; }
[[ $RSS_RUNS =~ ^[1-9][0-9]*$ ]] || { echo "bench: RSS_RUNS must be a positive integer" >&2; exit 2; }
BENCH_TRANSPORT=socket # the development server listens on its unix socket only
case $TIMER in auto | python | hyperfine) ;; *) echo "bench: TIMER is auto, python or hyperfine" >&2; exit 2 ;; esac
export LC_ALL=C # file order of globs = byte order = migration order

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_begin

DIR=$BENCH_TMP/migrations
ALL=$BENCH_TMP/all.sql
RES=$BENCH_TMP/results
mkdir -p "$RES"
python3 "$ROOT/bench/gen_workload.py" "$N" "$DIR" --seed "$SEED"
cat "$DIR"/*.sql >"$ALL"
EXPECTED_TABLES=$(find "$DIR" -name '*_create_*.sql' | wc -l)

# Helpers the timed runs call (argument vectors, no shell in between except for floor 1's loop).
RECREATE=$BENCH_TMP/recreate_db.sh
cat >"$RECREATE" <<EOF
#!/usr/bin/env bash
# Untimed, before every run: a fresh database \$1, then a CHECKPOINT.
set -euo pipefail
exec $(printf '%q' "$PSQL") -X -q -v ON_ERROR_STOP=1 -d $(printf '%q' "$(bench_db_url postgres)") \\
  -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS \\"\$1\\" WITH (FORCE)" -c "CREATE DATABASE \\"\$1\\"" -c "CHECKPOINT"
EOF
PER_FILE=$BENCH_TMP/psql_per_file.sh
cat >"$PER_FILE" <<'EOF'
#!/usr/bin/env bash
# Floor 1: one psql process per migration file, in order, as the seed projects' scripts do.
set -euo pipefail
export LC_ALL=C
psql=$1 url=$2 dir=$3
for f in "$dir"/*.sql; do "$psql" -X -q -v ON_ERROR_STOP=1 -d "$url" -f "$f"; done
EOF
chmod +x "$RECREATE" "$PER_FILE"

measure() { # measure NAME DB [measure.py options] -- COMMAND...
    local name=$1 db=$2
    shift 2
    bench_log "$name: $R run(s) on a fresh database $db each"
    python3 "$ROOT/bench/measure.py" time --tool "$TIMER" --runs "$R" \
        --prepare "$(printf '%q %q' "$RECREATE" "$db")" "$@" >"$RES/$name.json"
    bench_log "$name: median $(python3 -c 'import json,sys; print("%.3f s" % json.load(open(sys.argv[1]))["median_s"])' "$RES/$name.json")"
}

query() { "$PSQL" -X -q -A -t -v ON_ERROR_STOP=1 -d "$(bench_db_url "$1")" -c "$2"; }

check_applied() { # check_applied DB WITH_HISTORY: the last run really applied everything
    local tables rows
    tables=$(query "$1" "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'shale_migrations'")
    [[ $tables == "$EXPECTED_TABLES" ]] || bench_die "$1: expected $EXPECTED_TABLES tables after the run, found $tables"
    if [[ $2 == 1 ]]; then
        rows=$(query "$1" "SELECT count(*) FROM shale_migrations WHERE status = 'succeeded'")
        [[ $rows == "$N" ]] || bench_die "$1: expected $N applied migrations in shale_migrations, found $rows"
    fi
}

URL_A=$(bench_db_url bench_a)
URL_B=$(bench_db_url bench_b)
URL_C=$(bench_db_url bench_c)
URL_D=$(bench_db_url bench_d)
URL_E=$(bench_db_url bench_noop)
URL_F=$(bench_db_url bench_rss)

# shale runs from the empty project directory: no shale.toml or .env of the repository applies.
cd "$BENCH_PROJECT"

measure a bench_a -- bash "$PER_FILE" "$PSQL" "$URL_A" "$DIR"
check_applied bench_a 0
measure b bench_b -- "$PSQL" -X -q -v ON_ERROR_STOP=1 -1 -d "$URL_B" -f "$ALL"
check_applied bench_b 0
measure c bench_c -- "$SHALE" --database-url "$URL_C" --dir "$DIR" up -q
check_applied bench_c 1
measure d bench_d -- "$SHALE" --database-url "$URL_D" --dir "$DIR" up -q --single-transaction
check_applied bench_d 1

bench_log "e: no-op shale up with all $N applied: 1 warm-up + $R run(s)"
"$RECREATE" bench_noop
"$SHALE" --database-url "$URL_E" --dir "$DIR" up -q
check_applied bench_noop 1
python3 "$ROOT/bench/measure.py" time --tool "$TIMER" --runs "$R" --warmup 1 -- \
    "$SHALE" --database-url "$URL_E" --dir "$DIR" up -q >"$RES/e.json"
check_applied bench_noop 1

bench_log "f: peak RSS of shale up, $RSS_RUNS run(s) on a fresh database"
python3 "$ROOT/bench/measure.py" rss --runs "$RSS_RUNS" --prepare "$(printf '%q %q' "$RECREATE" bench_rss)" -- \
    "$SHALE" --database-url "$URL_F" --dir "$DIR" up -q >"$RES/f.json"
check_applied bench_rss 1

bench_log "g: round trips of a no-op shale up (server log)"
bench_count_roundtrips bench_noop "$DIR" >"$RES/g.json"

cd "$ROOT"
export BENCH_N=$N BENCH_R=$R BENCH_SEED=$SEED BENCH_RSS_RUNS=$RSS_RUNS BENCH_RES=$RES
export BENCH_DIR=$DIR BENCH_ALL=$ALL BENCH_PSQL=$PSQL BENCH_SHALE=$SHALE BENCH_TRANSPORT
export BENCH_URL_A=$URL_A BENCH_URL_B=$URL_B BENCH_URL_C=$URL_C BENCH_URL_D=$URL_D BENCH_URL_E=$URL_E BENCH_URL_F=$URL_F
export BENCH_LOAD_START=$LOAD_START BENCH_LOAD_END
BENCH_LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
export BENCH_SERVER_VERSION BENCH_SERVER_SETTINGS BENCH_PSQL_VERSION BENCH_SHALE_VERSION BENCH_GIT_REV
BENCH_SERVER_VERSION=$(bench_psql -c "SELECT version()")
BENCH_SERVER_SETTINGS=$(bench_psql -F ' ' -c "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ', ' ORDER BY name) FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers', 'wal_level', 'max_wal_size')")
BENCH_PSQL_VERSION=$("$PSQL" --version)
BENCH_SHALE_VERSION=$("$SHALE" --version)
BENCH_GIT_REV=$(git -C "$ROOT" describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)
export BENCH_WORKLOAD_BYTES
BENCH_WORKLOAD_BYTES=$(wc -c <"$ALL")

mkdir -p "$(dirname "$RESULTS")"
# Machine paths out of the committed results: the temporary directory and the checkout.
BENCH_TMP_ENC=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$BENCH_TMP")
python3 "$ROOT/bench/report.py" |
    sed -e "s|$BENCH_TMP_ENC|\$BENCH_TMP_ENCODED|g" -e "s|$BENCH_TMP|\$BENCH_TMP|g" -e "s|$ROOT/||g" >"$RESULTS.tmp"
# The other scripts' sections (from the first `<!-- NAME:start` on) stay below this report.
if [ -f "$RESULTS" ] && grep -q '^<!-- ' "$RESULTS"; then
    { echo; sed -n '/^<!-- /,$p' "$RESULTS"; } >>"$RESULTS.tmp"
fi
mv "$RESULTS.tmp" "$RESULTS"
cat "$RESULTS"
bench_log "written to $RESULTS"
