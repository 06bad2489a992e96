#!/usr/bin/env bash
# Start-up and memory, side by side: what a no-op `shale up` costs (what every application start
# and every deploy pays) next to psql's connect + `select 1` and dbmate's no-op `up`, and the peak
# memory of `shale up` applying N and BIG migrations.
#
#   bench/startup.sh [N]        (default 1000; BIG defaults to 10 x N)
#
# The goals it checks, printed with the figures; the script exits 1 when one is missed, so that a
# regression shows:
#   1. no-op `shale up` (N applied): median wall time at most 0.6x psql's connect + `select 1`,
#      and median CPU time under dbmate's no-op `up` (when dbmate is there);
#   2. peak RSS of `shale up` applying N and applying BIG migrations: at most 10 MiB each.
# Beside them it prints the peak RSS applying one migration (the floor every run pays: code, libc,
# the connection) and what each further migration adds, (RSS BIG - RSS N) / (BIG - N), and the
# no-op `up` over the same N migrations as Prisma's folders (`0001_name/migration.sql`), whose
# checks for folders sharing a timestamp once scanned the directory per migration.
#
# Environment: R (interleaved rounds, median; default 30), BIG, SEED, SKIP_BUILD=1, KEEP=1,
# RESULTS (default bench/results/latest.md: the "startup" section is replaced or appended),
# DBMATE (the dbmate binary; by default dbmate on PATH, else the npm package `dbmate` installed
# into target/bench-tools/node when npm is there; DBMATE=none leaves dbmate out).
set -euo pipefail

N=${1:-1000}
BIG=${BIG:-$((N * 10))}
R=${R:-30}
SEED=${SEED:-20251125}
[[ $N =~ ^[1-9][0-9]*$ && $BIG =~ ^[1-9][0-9]*$ ]] || {
    echo "usage: bench/startup.sh [N]  (default 1000; BIG=... for the larger count)" >&2
    exit 2
}
export LC_ALL=C

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# dbmate: the native binary (its npm package's `bin/dbmate` shim would add a Node start-up).
find_dbmate() {
    [[ ${DBMATE:-} == none ]] && return 0
    if [[ -n ${DBMATE:-} ]]; then echo "$DBMATE"; return 0; fi
    if command -v dbmate >/dev/null 2>&1; then command -v dbmate; return 0; fi
    local tools=$ROOT/target/bench-tools/node
    if ! compgen -G "$tools/node_modules/@dbmate/*/bin/dbmate" >/dev/null && command -v npm >/dev/null 2>&1; then
        bench_log "installing dbmate from npm into $tools (the peer of goal 1)"
        npm install --prefix "$tools" --no-audit --no-fund --loglevel=error dbmate >&2 || true
    fi
    compgen -G "$tools/node_modules/@dbmate/*/bin/dbmate" | head -n 1 || true
}

bench_begin
DBMATE_BIN=$(find_dbmate)
[[ -n $DBMATE_BIN ]] || bench_log "dbmate not found: its column and its part of goal 1 are left out"

SMALL=$BENCH_TMP/m_$N
PRISMA=$BENCH_TMP/prisma_$N
LARGE=$BENCH_TMP/m_$BIG
ONE=$BENCH_TMP/m_1
DBM=$BENCH_TMP/dbmate_$N
RES=$BENCH_TMP/results
mkdir -p "$RES"
python3 "$ROOT/bench/gen_workload.py" "$N" "$SMALL" --seed "$SEED" >&2
python3 "$ROOT/bench/gen_workload.py" "$BIG" "$LARGE" --seed "$SEED" >&2
python3 "$ROOT/bench/gen_workload.py" 1 "$ONE" --seed "$SEED" >&2
# The same files as Prisma folders.
mkdir -p "$PRISMA"
for f in "$SMALL"/*.sql; do
    folder=$PRISMA/$(basename "$f" .sql)
    mkdir -p "$folder" && cp "$f" "$folder/migration.sql"
done

query() { "$PSQL" -X -q -A -t -v ON_ERROR_STOP=1 -d "$(bench_db_url "$1")" -c "$2"; }
dbmate_url() { printf 'postgres://postgres@/%s?socket=%s&port=%s&sslmode=disable' "$1" "$BENCH_SOCKET_DIR" "$BENCH_PORT"; }

# shale runs from the empty project directory: no shale.toml or .env of the repository applies.
cd "$BENCH_PROJECT"

bench_log "preparing: $N migrations applied by shale (and by dbmate, in its own database)"
bench_recreate_db noop_shale
"$SHALE" --database-url "$(bench_db_url noop_shale)" --dir "$SMALL" up -q
[[ $(query noop_shale "SELECT count(*) FROM shale_migrations WHERE status = 'succeeded'") == "$N" ]] ||
    bench_die "noop_shale does not hold $N applied migrations"
bench_recreate_db noop_prisma
"$SHALE" --database-url "$(bench_db_url noop_prisma)" --dir "$PRISMA" up -q
[[ $(query noop_prisma "SELECT count(*) FROM shale_migrations WHERE status = 'succeeded'") == "$N" ]] ||
    bench_die "noop_prisma does not hold $N applied migrations"
# The floor: shale's own start, connection and history query, with no file to read (an empty
# directory and a database without a history).
EMPTY=$BENCH_TMP/m_empty
mkdir -p "$EMPTY"
bench_recreate_db noop_empty
COMMANDS=$BENCH_TMP/commands.json
if [[ -n $DBMATE_BIN ]]; then
    # dbmate wants its own sections in every file: the same SQL under `-- migrate:up`.
    mkdir -p "$DBM"
    for f in "$SMALL"/*.sql; do
        { echo "-- migrate:up"; cat "$f"; printf '\n-- migrate:down\n'; } >"$DBM/$(basename "$f")"
    done
    bench_recreate_db noop_dbmate
    "$DBMATE_BIN" --url "$(dbmate_url noop_dbmate)" --migrations-dir "$DBM" --no-dump-schema up >/dev/null
    [[ $(query noop_dbmate "SELECT count(*) FROM schema_migrations") == "$N" ]] ||
        bench_die "noop_dbmate does not hold $N applied migrations"
fi
python3 - "$COMMANDS" "$PSQL" "$(bench_db_url noop_shale)" "$SHALE" "$SMALL" "${DBMATE_BIN:-}" "$(dbmate_url noop_dbmate)" "$DBM" "$(bench_db_url noop_empty)" "$EMPTY" "$(bench_db_url noop_prisma)" "$PRISMA" <<'PY'
import json, sys
out, psql, url, shale, small, dbmate, dbmate_url, dbm, empty_url, empty, prisma_url, prisma = sys.argv[1:]
commands = {
    "psql": [psql, "-X", "-q", "-A", "-t", "-d", url, "-c", "select 1"],
    "shale": [shale, "--database-url", url, "--dir", small, "up", "-q"],
    "shale_floor": [shale, "--database-url", empty_url, "--dir", empty, "up", "-q"],
    "shale_prisma": [shale, "--database-url", prisma_url, "--dir", prisma, "up", "-q"],
}
if dbmate:
    commands["dbmate"] = [dbmate, "--url", dbmate_url, "--migrations-dir", dbm, "--no-dump-schema", "up"]
json.dump(commands, open(out, "w"))
PY

bench_log "goal 1: no-op start-up, $R interleaved rounds (after 2 warm-up rounds)"
python3 "$ROOT/bench/measure.py" interleave --runs "$R" --warmup 2 -- "$COMMANDS" >"$RES/noop.json"
[[ $(query noop_shale "SELECT count(*) FROM shale_migrations") == "$N" ]] || bench_die "a no-op run changed the history"
[[ $(query noop_prisma "SELECT count(*) FROM shale_migrations") == "$N" ]] || bench_die "a no-op run changed the history"

RSS_COUNTS=(1 "$N" "$BIG")
for n in "${RSS_COUNTS[@]}"; do
    dir=$SMALL
    [[ $n == "$BIG" ]] && dir=$LARGE
    [[ $n == 1 ]] && dir=$ONE
    bench_log "goal 2: peak RSS of shale up applying $n migrations"
    bench_recreate_db "rss_$n"
    python3 "$ROOT/bench/measure.py" rss --runs 1 -- \
        "$SHALE" --database-url "$(bench_db_url "rss_$n")" --dir "$dir" up -q >"$RES/rss_$n.json"
    [[ $(query "rss_$n" "SELECT count(*) FROM shale_migrations WHERE status = 'succeeded'") == "$n" ]] ||
        bench_die "rss_$n does not hold $n applied migrations"
    query postgres "DROP DATABASE \"rss_$n\" WITH (FORCE)" >/dev/null
done
# The same one migration without the linter's vet (`--force-unsafe`): what of the floor is the
# PostgreSQL parser the linter calls (its code and its grammar's tables, paged in to parse).
bench_log "peak RSS of shale up applying 1 migration without the linter (--force-unsafe)"
bench_recreate_db rss_unlinted
python3 "$ROOT/bench/measure.py" rss --runs 1 -- \
    "$SHALE" --database-url "$(bench_db_url rss_unlinted)" --dir "$ONE" up -q --force-unsafe >"$RES/rss_unlinted.json"
query postgres "DROP DATABASE \"rss_unlinted\" WITH (FORCE)" >/dev/null
# A seed of SEED_MB megabytes, one INSERT of many rows (real projects' city and postal-code seeds
# are such files): shale's peak beside psql's on the same two files, each on a fresh database.
SEED_MB=${SEED_MB:-20}
SEEDDIR=$BENCH_TMP/seed
mkdir -p "$SEEDDIR"
python3 - "$SEEDDIR" "$SEED_MB" <<'PY'
import sys
out, mb = sys.argv[1], int(sys.argv[2])
open(f"{out}/0001_items.sql", "w").write("CREATE TABLE items (id int PRIMARY KEY, name text, tags text[], price numeric);\n")
rows, size, i = [], 0, 0
while size < mb * 1_000_000:
    row = f"({i}, 'item number {i} with a name', ARRAY['a', 'b{i % 7}'], {i % 10000 / 100:.2f})"
    rows.append(row)
    size += len(row) + 2
    i += 1
open(f"{out}/0002_seed.sql", "w").write("INSERT INTO items (id, name, tags, price) VALUES\n" + ",\n".join(rows) + "\nON CONFLICT (id) DO NOTHING;\n")
PY
SEED_ROWS=$(grep -c '^(' "$SEEDDIR/0002_seed.sql")
bench_log "peak RSS applying a ${SEED_MB} MB seed ($SEED_ROWS rows in one INSERT): shale, then psql"
bench_recreate_db rss_seed
python3 "$ROOT/bench/measure.py" rss --runs 1 -- \
    "$SHALE" --database-url "$(bench_db_url rss_seed)" --dir "$SEEDDIR" up -q >"$RES/rss_seed.json"
[[ $(query rss_seed "SELECT count(*) FROM items") == "$SEED_ROWS" ]] || bench_die "rss_seed does not hold the seed"
bench_recreate_db rss_seed_psql
python3 "$ROOT/bench/measure.py" rss --runs 1 -- \
    "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$(bench_db_url rss_seed_psql)" -1 -f "$SEEDDIR/0001_items.sql" -f "$SEEDDIR/0002_seed.sql" >"$RES/rss_seed_psql.json"
for db in rss_seed rss_seed_psql; do query postgres "DROP DATABASE \"$db\" WITH (FORCE)" >/dev/null; done
if [[ -n $DBMATE_BIN ]]; then
    bench_log "dbmate's peak RSS applying $N migrations (for comparison)"
    bench_recreate_db rss_dbmate
    python3 "$ROOT/bench/measure.py" rss --runs 1 -- \
        "$DBMATE_BIN" --url "$(dbmate_url rss_dbmate)" --migrations-dir "$DBM" --no-dump-schema up >"$RES/rss_dbmate.json"
fi

cd "$ROOT"
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
REV=${GIT_REV:-$(git -C "$ROOT" describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)}
SECTION=$BENCH_TMP/startup.md
set +e
python3 - "$RES" "$N" "$BIG" "$R" "$REV" "$LOAD_START" "$LOAD_END" "${DBMATE_BIN:+yes}" "$SEED_MB" "$SEED_ROWS" >"$SECTION" <<'PY'
import json, os, sys
res, n, big, rounds, rev, load_start, load_end, has_dbmate, seed_mb, seed_rows = sys.argv[1:]
noop = json.load(open(os.path.join(res, "noop.json")))
rss = {c: json.load(open(os.path.join(res, f"rss_{c}.json")))["max_rss_kb"] for c in ("1", n, big)}
ms = lambda s: f"{s * 1000:.1f} ms"
mib = lambda kb: f"{kb / 1024:.1f} MiB"
ok = lambda b: "✓ met" if b else "✗ missed"
psql, shale = noop["psql"], noop["shale"]
dbmate = noop.get("dbmate")
goals = []
wall_ratio = shale["median_s"] / psql["median_s"]
goals.append(("1. no-op wall at most 0.6x psql's connect + `select 1`", f"{wall_ratio:.2f}x", wall_ratio <= 0.6))
if dbmate:
    cpu_ratio = shale["cpu_median_s"] / dbmate["cpu_median_s"]
    goals.append(("1. no-op CPU under dbmate's", f"{cpu_ratio:.2f}x", cpu_ratio < 1.0))
for c in (n, big):
    goals.append((f"2. peak RSS applying {int(c):,} at most 10 MiB", mib(rss[c]), rss[c] <= 10 * 1024))
print("<!-- startup:start (written by bench/startup.sh) -->")
print(f"## Start-up and memory: no-op `up` with {int(n):,} applied; applying {int(n):,} and {int(big):,}")
print()
print(f"`bench/startup.sh {n}` (BIG={big}, R={rounds} interleaved rounds, medians; shale {rev}, release build;")
print(f"the `shale dev` server over its Unix socket; load average {load_start} at start, {load_end} at end; 2 cores).")
print()
print("| no-op, all applied | wall | CPU (user + system) |")
print("| --- | ---: | ---: |")
print(f"| psql: connect + `select 1` | {ms(psql['median_s'])} | {ms(psql['cpu_median_s'])} |")
if dbmate:
    print(f"| dbmate up (no-op) | {ms(dbmate['median_s'])} | {ms(dbmate['cpu_median_s'])} |")
print(f"| shale up (no-op) | {ms(shale['median_s'])} | {ms(shale['cpu_median_s'])} |")
floor = noop["shale_floor"]
print(f"| shale up, no files and no history (its floor) | {ms(floor['median_s'])} ({floor['median_s'] / psql['median_s']:.2f}x psql) | {ms(floor['cpu_median_s'])} |")
prisma = noop["shale_prisma"]
print(f"| shale up (no-op), the same migrations as Prisma folders | {ms(prisma['median_s'])} | {ms(prisma['cpu_median_s'])} |")
print()
print("| peak RSS | |")
print("| --- | ---: |")
print(f"| shale up applying 1 migration (the floor: code, libc, the connection) | {mib(rss['1'])} |")
unlinted = json.load(open(os.path.join(res, "rss_unlinted.json")))["max_rss_kb"]
print(f"| the same without the linter (`--force-unsafe`: no PostgreSQL parser paged in) | {mib(unlinted)} |")
for c in (n, big):
    print(f"| shale up applying {int(c):,} migrations | {mib(rss[c])} |")
per = (rss[big] - rss[n]) / (int(big) - int(n)) if int(big) > int(n) else 0.0
print(f"| each migration past {int(n):,} adds | {per * 1024:,.0f} B |")
if has_dbmate:
    d = json.load(open(os.path.join(res, "rss_dbmate.json")))["max_rss_kb"]
    print(f"| dbmate up applying {int(n):,} migrations | {mib(d)} |")
seed = json.load(open(os.path.join(res, "rss_seed.json")))["max_rss_kb"]
seed_psql = json.load(open(os.path.join(res, "rss_seed_psql.json")))["max_rss_kb"]
print(f"| shale up applying a {seed_mb} MB seed, one INSERT of {int(seed_rows):,} rows | {mib(seed)} ({seed / seed_psql:.1f}x psql) |")
print(f"| psql -1 -f on the same files | {mib(seed_psql)} |")
print()
print("| goal | figure | |")
print("| --- | ---: | --- |")
for name, figure, met in goals:
    print(f"| {name} | {figure} | {ok(met)} |")
print()
print("Commands ($URL: the benchmark database over the server's socket; $DIR: the generated workload;")
print("$DBMATE_DIR: the same files with `-- migrate:up` / `-- migrate:down` sections):")
print()
print("```sh")
print("psql -X -q -A -t -d $URL -c 'select 1'")
print("shale --database-url $URL --dir $DIR up -q")
print("shale --database-url $URL_EMPTY --dir $EMPTY_DIR up -q   # the floor: a fresh database, an empty directory")
print("shale --database-url $URL_PRISMA --dir $PRISMA_DIR up -q   # $DIR's files as NNNN_name/migration.sql")
if dbmate:
    print("dbmate --url 'postgres://postgres@/DB?socket=SOCKET_DIR&port=PORT&sslmode=disable' --migrations-dir $DBMATE_DIR --no-dump-schema up")
print("/usr/bin/time -f %M shale --database-url $URL_FRESH --dir $DIR up -q   # peak RSS, on a fresh database")
print("/usr/bin/time -f %M shale --database-url $URL_FRESH --dir $ONE_DIR up -q --force-unsafe   # one, no linter")
print("/usr/bin/time -f %M shale --database-url $URL_FRESH --dir $SEED_DIR up -q   # the seed")
print("/usr/bin/time -f %M psql -X -q -v ON_ERROR_STOP=1 -d $URL_FRESH -1 -f $SEED_DIR/0001_items.sql -f $SEED_DIR/0002_seed.sql")
print("```")
print("<!-- startup:end -->")
sys.exit(0 if all(met for _, _, met in goals) else 1)
PY
MET=$?
set -e
bench_write_section "$RESULTS" startup "$SECTION"
cat "$SECTION"
bench_log "written to $RESULTS"
if [[ $MET != 0 ]]; then
    bench_log "a goal was missed (see the table above)"
    exit 1
fi
