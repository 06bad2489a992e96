#!/usr/bin/env bash
# Introspection and dump of a large schema: `shale dump` against `pg_dump --schema-only` on the same
# database of N tables (default 2000) with indexes, foreign keys, views, functions and triggers, and
# the kinds added later: a domain, composite and range type used by every table, a SELECT grant on
# every table, row-level security with a policy on every 10th, comments on every 20th index.
# Usage: bench/schema.sh [N]    (R=5 runs, median; SKIP_BUILD=1 to skip the release build; RESULTS
# (default bench/results/latest.md: the "Schema dump" section is replaced or appended); SHALE_BIN=FILE
# measures another build of shale, e.g. a copy of an earlier one, to compare before and after)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SHALE=${SHALE_BIN:-$SHALE}
N=${1:-2000}
R=${R:-5}
bench_begin
bench_recreate_db schema_bench
python3 - "$N" > "$BENCH_TMP/schema.sql" <<'PY'
import sys
n = int(sys.argv[1])
print("CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;")
print("DO $$ BEGIN CREATE ROLE bench_reader; EXCEPTION WHEN duplicate_object THEN NULL; END $$;")
print("CREATE DOMAIN positive_int AS integer NOT NULL DEFAULT 1 CHECK (VALUE > 0);")
print("CREATE TYPE money_amount AS (amount numeric(12, 2), currency text);")
print("CREATE TYPE int_span AS RANGE (subtype = integer);")
for i in range(1, n + 1):
    ref = f", parent_id bigint REFERENCES t{i-1} (id) ON DELETE CASCADE" if i > 1 else ""
    print(f"CREATE TABLE t{i} (id bigserial PRIMARY KEY, name text NOT NULL, doc jsonb NOT NULL DEFAULT '{{}}', "
          f"tags text[] NOT NULL DEFAULT '{{}}', updated_at timestamptz NOT NULL DEFAULT now(), "
          f"quantity positive_int, price money_amount, valid int_span{ref});")
    print(f"CREATE INDEX t{i}_doc ON t{i} USING gin (doc);")
    print(f"CREATE UNIQUE INDEX t{i}_name ON t{i} (lower(name)) WHERE name <> '';")
    print(f"GRANT SELECT ON t{i} TO bench_reader;")
    if i % 10 == 0:
        print(f"ALTER TABLE t{i} ENABLE ROW LEVEL SECURITY;")
        print(f"CREATE POLICY t{i}_own ON t{i} USING (name = current_user);")
    if i % 20 == 0:
        print(f"COMMENT ON INDEX t{i}_doc IS 'document search';")
    if i % 10 == 0:
        print(f"CREATE VIEW v{i} AS SELECT id, name FROM t{i} WHERE doc ? 'active';")
    if i % 5 == 0:
        print(f"CREATE TRIGGER t{i}_touch BEFORE UPDATE ON t{i} FOR EACH ROW EXECUTE FUNCTION touch();")
PY
bench_log "loading $N tables"
"$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$(bench_db_url schema_bench)" -f "$BENCH_TMP/schema.sql" >/dev/null
URL=$(bench_db_url schema_bench)
PG_DUMP=$(dirname "$PSQL")/pg_dump
# Check once, untimed, that the dump holds what was built (and loads: it is what the times are of).
"$SHALE" --database-url "$URL" dump -q -o "$BENCH_TMP/dump.sql"
for expected in "CREATE TABLE public.t$N " "CREATE DOMAIN public.positive_int" "GRANT SELECT ON TABLE public.t$N TO bench_reader;"; do
    grep -qF "$expected" "$BENCH_TMP/dump.sql" || bench_die "the dump lacks: $expected"
done
if (( N >= 10 )); then
    grep -qF "CREATE POLICY t10_own ON public.t10" "$BENCH_TMP/dump.sql" || bench_die "the dump lacks the policies"
fi
bench_recreate_db schema_reload
"$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$(bench_db_url schema_reload)" -f "$BENCH_TMP/dump.sql" >/dev/null ||
    bench_die "the dump does not load into an empty database"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
SECTION=$BENCH_TMP/section.md
POSTMASTER_PID=$(head -1 "$BENCH_PGDATA/postmaster.pid")
python3 - "$R" "$N" "$SHALE" "$URL" "$PG_DUMP" "$LOAD_START" "$POSTMASTER_PID" <<'PY' >"$SECTION"
import os, resource, statistics, subprocess, sys, time
runs, n, shale, url, pg_dump, load_start, postmaster = int(sys.argv[1]), int(sys.argv[2]), *sys.argv[3:]
tick = os.sysconf("SC_CLK_TCK")
def reaped_cpu():
    # CPU of the server's exited children (the command's backend among them), reaped by the postmaster.
    fields = open(f"/proc/{postmaster}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / tick
def client_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime
commands = {
    "shale": [shale, "--database-url", url, "dump", "-q"],
    "pg_dump": [pg_dump, "--schema-only", "--no-owner", "-d", url],
}
times = {k: [] for k in commands}
cpu = {k: [] for k in commands}
# Interleaved, so that load from elsewhere on the machine falls on both alike; one warm-up each.
# CPU time (client plus server backend) is reported too: on a machine shared with other work it
# varies far less than wall time.
for i in range(runs + 1):
    for name, cmd in commands.items():
        server_before, client_before = reaped_cpu(), client_cpu()
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
        wall = time.perf_counter() - start
        time.sleep(0.2)  # let the postmaster reap the backend
        if i > 0:
            times[name].append(wall)
            cpu[name].append(reaped_cpu() - server_before + client_cpu() - client_before)
med = {k: statistics.median(v) for k, v in times.items()}
cpu_med = {k: statistics.median(v) for k, v in cpu.items()}
span = {k: f"{min(v)*1000:.0f}–{max(v)*1000:.0f} ms" for k, v in times.items()}
load_end = " ".join(open("/proc/loadavg").read().split()[:3])
print("<!-- schema:start -->")
print(f"## Schema dump: {n} tables (`bench/schema.sh {n}`)")
print()
print(f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}; median of {runs} interleaved runs after one warm-up each; "
      f"load average {load_start} at start, {load_end} at end.")
print()
print(f"| schema of {n} tables | median wall time | min–max | median CPU time (client + server) |")
print("| --- | ---: | ---: | ---: |")
print(f"| `shale dump` (introspection + SQL) | {med['shale']*1000:.0f} ms | {span['shale']} | {cpu_med['shale']*1000:.0f} ms |")
print(f"| `pg_dump --schema-only --no-owner` | {med['pg_dump']*1000:.0f} ms | {span['pg_dump']} | {cpu_med['pg_dump']*1000:.0f} ms |")
print(f"| ratio shale / pg_dump | {med['shale']/med['pg_dump']:.2f}x | | {cpu_med['shale']/cpu_med['pg_dump']:.2f}x |")
print()
print("Workload: each table has a bigserial key, jsonb, text[], a domain, a composite and a range column, a GIN and a")
print("partial unique expression index, a foreign key to the previous table and a SELECT grant; every 5th a trigger,")
print("every 10th a view, row-level security and a policy, every 20th a comment on an index.")
print("<!-- schema:end -->")
PY
RESULTS=${RESULTS:-$ROOT/bench/results/latest.md}
bench_write_section "$RESULTS" schema "$SECTION"
cat "$SECTION"
bench_log "written to $RESULTS"
