#!/usr/bin/env bash
# Fleet benchmark: TENANTS schemas x MIGRATIONS migrations in one database.
#
#   bench/fleet.sh [TENANTS] [MIGRATIONS]      (defaults 500 and 20)
#
# Measures, each on a freshly created database holding TENANTS empty schemas tenant_00001, ...:
#   a) `shale --schemas 'tenant_*' up`: the whole fleet in one run (default concurrency);
#   b) the same work as a sequential loop of single-database `shale up` runs, one per schema
#      (PGOPTIONS sets its search_path, a shale.toml of its own its history_schema);
#      a and b alternate, R times each; for both, the wall time and the CPU time per target of
#      the client (shale; for b also bash) and of the server's backends;
#   c) a second, no-op `shale --schemas 'tenant_*' up` (every tenant up to date);
#   d) peak RSS of (a) at each RSS_TARGETS count of tenants, to show memory stays flat.
# Every run is checked afterwards: each tenant holds MIGRATIONS succeeded history rows.
#
# Environment: R (timed runs, median; default 3), RSS_TARGETS (default "100 1000"), SEED,
# CONCURRENCY (passed as --concurrency to the fleet runs; default: shale's own), SKIP_BUILD=1,
# GIT_REV (the revision named in the results, when the tree is not a git checkout),
# KEEP=1, RESULTS (default bench/results/latest.md: the "Fleet" section is replaced or appended).
set -euo pipefail

TENANTS=${1:-500}
M=${2:-20}
R=${R:-3}
SEED=${SEED:-20251125}
RSS_TARGETS=${RSS_TARGETS:-"100 1000"}
[[ $TENANTS =~ ^[1-9][0-9]*$ && $M =~ ^[1-9][0-9]*$ ]] || {
    echo "usage: bench/fleet.sh [TENANTS] [MIGRATIONS]  (defaults 500 20)" >&2
    exit 2
}
export LC_ALL=C

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_begin

DIR=$BENCH_TMP/migrations
RES=$BENCH_TMP/results
CONFIGS=$BENCH_TMP/configs
mkdir -p "$RES" "$CONFIGS"
python3 "$ROOT/bench/gen_workload.py" "$M" "$DIR" --seed "$SEED"
FLEET_FLAGS=()
[[ -n ${CONCURRENCY:-} ]] && FLEET_FLAGS=(--concurrency "$CONCURRENCY")

# Untimed, before every run: database $1, fresh, with $2 empty tenant schemas; then a CHECKPOINT.
PREPARE=$BENCH_TMP/prepare.sh
cat >"$PREPARE" <<EOF
#!/usr/bin/env bash
set -euo pipefail
psql() { $(printf '%q' "$PSQL") -X -q -v ON_ERROR_STOP=1 "\$@"; }
psql -d $(printf '%q' "$(bench_db_url postgres)") -c "SET client_min_messages = warning" \\
  -c "DROP DATABASE IF EXISTS \\"\$1\\" WITH (FORCE)" -c "CREATE DATABASE \\"\$1\\""
url=$(printf '%q' "$(bench_db_url XDBX)")
psql -d "\${url/XDBX/\$1}" -c "DO \\\$\\\$ BEGIN FOR i IN 1..\$2 LOOP EXECUTE format('CREATE SCHEMA %I', 'tenant_' || lpad(i::text, 5, '0')); END LOOP; END \\\$\\\$"
psql -d $(printf '%q' "$(bench_db_url postgres)") -c CHECKPOINT
EOF
# The sequential baseline: one `shale up` process per schema, as a shell loop would do it.
LOOP=$BENCH_TMP/loop.sh
cat >"$LOOP" <<'EOF'
#!/usr/bin/env bash
# loop.sh SHALE URL DIR CONFIGS TENANTS
set -euo pipefail
shale=$1 url=$2 dir=$3 configs=$4 tenants=$5
for i in $(seq 1 "$tenants"); do
    s=$(printf 'tenant_%05d' "$i")
    PGOPTIONS="-c search_path=$s" "$shale" --config "$configs/$s.toml" --database-url "$url" --dir "$dir" up -q
done
EOF
chmod +x "$PREPARE" "$LOOP"
for i in $(seq 1 "$TENANTS"); do
    s=$(printf 'tenant_%05d' "$i")
    printf 'history_schema = "%s"\n' "$s" >"$CONFIGS/$s.toml"
done

query() { "$PSQL" -X -q -A -t -v ON_ERROR_STOP=1 -d "$(bench_db_url "$1")" -c "$2"; }

check_applied() { # check_applied DB TENANTS: every tenant holds M succeeded migrations
    local got
    got=$(query "$1" "SELECT count(*) FILTER (WHERE n = $M) FROM (SELECT (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.shale_migrations WHERE status = ''succeeded''', nspname), false, true, '')))[1]::text::int AS n FROM pg_namespace WHERE nspname LIKE 'tenant\\_%') t")
    [[ $got == "$2" ]] || bench_die "$1: expected $2 tenants with $M applied migrations each, found $got"
}

URL_A=$(bench_db_url fleet_a)
URL_B=$(bench_db_url fleet_b)
URL_C=$(bench_db_url fleet_c)
FLEET_A=("$SHALE" --database-url "$URL_A" --dir "$DIR" --schemas 'tenant_*' "${FLEET_FLAGS[@]}" up -q)
LOOP_B=(bash "$LOOP" "$SHALE" "$URL_B" "$DIR" "$CONFIGS" "$TENANTS")
FLEET_C=("$SHALE" --database-url "$URL_C" --dir "$DIR" --schemas 'tenant_*' "${FLEET_FLAGS[@]}" up -q)

# The postmaster: the CPU time of the backends it reaps during a run is the server's share.
SERVER_PID=$(head -n 1 "$BENCH_PGDATA/postmaster.pid")

# shale runs from the empty project directory: no shale.toml or .env of the repository applies.
cd "$BENCH_PROJECT"

# a and b take turns, so that both see the same machine: other work on a 2-core host changes the
# server's speed from minute to minute.
for i in $(seq 1 "$R"); do
    bench_log "run $i/$R: a (fleet up, $TENANTS tenants x $M migrations), then b (loop of $TENANTS single-database runs)"
    python3 "$ROOT/bench/measure.py" time --tool python --runs 1 --server-pid "$SERVER_PID" \
        --prepare "$(printf '%q %q %q' "$PREPARE" fleet_a "$TENANTS")" -- "${FLEET_A[@]}" >"$RES/a_$i.json"
    check_applied fleet_a "$TENANTS"
    python3 "$ROOT/bench/measure.py" time --tool python --runs 1 --server-pid "$SERVER_PID" \
        --prepare "$(printf '%q %q %q' "$PREPARE" fleet_b "$TENANTS")" -- "${LOOP_B[@]}" >"$RES/b_$i.json"
    check_applied fleet_b "$TENANTS"
done
for x in a b; do
    python3 - "$RES/$x.json" "$RES/${x}"_*.json <<'PY'
import json, statistics, sys
runs = [json.load(open(path)) for path in sys.argv[2:]]
out = {}
for key in ("times_s", "cpu_s", "server_cpu_s"):
    values = [t for run in runs for t in run[key]]
    out[key] = values
    out[key.replace("_s", "") + "_median_s"] = statistics.median(values)
out["median_s"] = out["times_median_s"]
json.dump(out, open(sys.argv[1], "w"))
PY
done

bench_log "c: no-op fleet up (all $TENANTS up to date), 1 untimed + $R run(s)"
"$PREPARE" fleet_c "$TENANTS"
"${FLEET_C[@]}"
python3 "$ROOT/bench/measure.py" time --tool python --runs "$R" -- "${FLEET_C[@]}" >"$RES/c.json"
check_applied fleet_c "$TENANTS"

RSS_ROWS=()
for n in $RSS_TARGETS; do
    bench_log "d: peak RSS of the fleet up at $n tenants"
    url=$(bench_db_url "fleet_rss_$n")
    python3 "$ROOT/bench/measure.py" rss --runs 1 --prepare "$(printf '%q %q %q' "$PREPARE" "fleet_rss_$n" "$n")" -- \
        "$SHALE" --database-url "$url" --dir "$DIR" --schemas 'tenant_*' "${FLEET_FLAGS[@]}" up -q >"$RES/rss_$n.json"
    check_applied "fleet_rss_$n" "$n"
    RSS_ROWS+=("$n")
    query postgres "DROP DATABASE \"fleet_rss_$n\" WITH (FORCE)" >/dev/null
done

cd "$ROOT"
median() { python3 -c 'import json,sys; print("%.2f" % json.load(open(sys.argv[1]))["median_s"])' "$1"; }
times() { python3 -c 'import json,sys; print(", ".join("%.2f" % t for t in json.load(open(sys.argv[1]))["times_s"]))' "$1"; }
A=$(median "$RES/a.json")
B=$(median "$RES/b.json")
C=$(median "$RES/c.json")
SPEEDUP=$(python3 -c "print('%.1f' % ($B / $A))")
# CPU per target, in ms: the client's (shale, and for the loop also bash) and the server's.
per_target() { python3 -c 'import json,sys; print("%.1f" % (json.load(open(sys.argv[1]))[sys.argv[2]] * 1000 / int(sys.argv[3])))' "$1" "$2" "$TENANTS"; }
CPU_A=$(per_target "$RES/a.json" cpu_median_s)
CPU_B=$(per_target "$RES/b.json" cpu_median_s)
SCPU_A=$(per_target "$RES/a.json" server_cpu_median_s)
SCPU_B=$(per_target "$RES/b.json" server_cpu_median_s)
WALL_A=$(per_target "$RES/a.json" median_s)
WALL_B=$(per_target "$RES/b.json" median_s)
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
MAXCONN=$(bench_psql -c "SHOW max_connections")
REV=${GIT_REV:-$(git -C "$ROOT" describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)}

SECTION=$BENCH_TMP/fleet.md
{
    echo "<!-- fleet:start (written by bench/fleet.sh) -->"
    echo "## Fleet: $TENANTS tenant schemas x $M migrations"
    echo
    echo "\`bench/fleet.sh $TENANTS $M\` (R=$R, median; shale $REV, release build; the \`shale dev\` server, max_connections=$MAXCONN,"
    echo "over its Unix socket; load average $LOAD_START at start, $LOAD_END at end; 2 cores)."
    echo
    echo "| measurement | median | runs |"
    echo "| --- | ---: | --- |"
    echo "| a. \`shale --schemas 'tenant_*' up\` (one run, the whole fleet) | $A s | $(times "$RES/a.json") |"
    echo "| b. sequential loop: one single-database \`shale up\` per schema | $B s | $(times "$RES/b.json") |"
    echo "| speed-up of a over b | ${SPEEDUP}x | |"
    echo "| per target, a: wall / client CPU / server CPU | $WALL_A / $CPU_A / $SCPU_A ms | |"
    echo "| per target, b: wall / client CPU / server CPU | $WALL_B / $CPU_B / $SCPU_B ms | |"
    echo "| c. no-op fleet \`up\` (every tenant up to date) | $C s | $(times "$RES/c.json") |"
    for n in "${RSS_ROWS[@]}"; do
        kb=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["max_rss_kb"])' "$RES/rss_$n.json")
        echo "| d. peak RSS of the fleet \`up\`, $n tenants x $M migrations | $(python3 -c "print('%.1f MB' % ($kb / 1024))") | 1 |"
    done
    echo
    echo "Client CPU is user + system time of the command and every process it waited for (wait4's rusage: for"
    echo "b, bash and its $TENANTS shale processes); server CPU is that of the backends the postmaster reaped during"
    echo "the run (its cutime + cstime), so both sides of the 2 cores are counted. Medians over the runs."
    echo
    echo "Exact commands, with the machine's paths as variables: \$SHALE is target/release/shale, \$DIR the"
    echo "generated migrations, \$URL_X postgresql://postgres@localhost:PORT/X?host=SOCKET_DIR on the benchmark"
    echo "server. Each timed run of a and b starts on a fresh database made by \`prepare.sh DB $TENANTS\`"
    echo "(DROP/CREATE DATABASE, CREATE SCHEMA tenant_00001 ... tenant_$(printf '%05d' "$TENANTS"), CHECKPOINT)."
    echo
    echo '```sh'
    echo "bench/gen_workload.py $M \$DIR --seed $SEED"
    echo "# a"
    echo "\$SHALE --database-url \$URL_fleet_a --dir \$DIR --schemas 'tenant_*' ${FLEET_FLAGS[*]:+${FLEET_FLAGS[*]} }up -q"
    echo "# b: loop.sh runs, for each schema s in tenant_00001 ... tenant_$(printf '%05d' "$TENANTS"):"
    echo "PGOPTIONS=\"-c search_path=\$s\" \$SHALE --config \$CONFIGS/\$s.toml --database-url \$URL_fleet_b --dir \$DIR up -q"
    echo "#    where \$CONFIGS/\$s.toml holds history_schema = \"\$s\""
    echo "# c (after one untimed run of the same)"
    echo "\$SHALE --database-url \$URL_fleet_c --dir \$DIR --schemas 'tenant_*' ${FLEET_FLAGS[*]:+${FLEET_FLAGS[*]} }up -q"
    echo "# d, for N in $RSS_TARGETS, on a fresh database with N tenant schemas"
    echo "/usr/bin/time -f %M \$SHALE --database-url \$URL_fleet_rss_N --dir \$DIR --schemas 'tenant_*' ${FLEET_FLAGS[*]:+${FLEET_FLAGS[*]} }up -q"
    echo '```'
    echo "<!-- fleet:end -->"
} >"$SECTION"

bench_write_section "$RESULTS" fleet "$SECTION"
cat "$SECTION"
bench_log "written to $RESULTS"
