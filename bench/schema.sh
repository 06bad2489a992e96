#!/usr/bin/env bash
# Introspection and dump of a large schema: `shale dump` against `pg_dump --schema-only` on the same
# database of N tables (default 2000) with indexes, foreign keys, views, functions and triggers.
# Usage: bench/schema.sh [N]    (R=5 runs, median; SKIP_BUILD=1 to skip the release build)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
N=${1:-2000}
R=${R:-5}
bench_build
trap bench_stop_server EXIT
bench_start_server
bench_recreate_db schema_bench
python3 - "$N" > "$BENCH_TMP/schema.sql" <<'PY'
import sys
n = int(sys.argv[1])
print("CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;")
for i in range(1, n + 1):
    ref = f", parent_id bigint REFERENCES t{i-1} (id) ON DELETE CASCADE" if i > 1 else ""
    print(f"CREATE TABLE t{i} (id bigserial PRIMARY KEY, name text NOT NULL, doc jsonb NOT NULL DEFAULT '{{}}', "
          f"tags text[] NOT NULL DEFAULT '{{}}', updated_at timestamptz NOT NULL DEFAULT now(){ref});")
    print(f"CREATE INDEX t{i}_doc ON t{i} USING gin (doc);")
    print(f"CREATE UNIQUE INDEX t{i}_name ON t{i} (lower(name)) WHERE name <> '';")
    if i % 10 == 0:
        print(f"CREATE VIEW v{i} AS SELECT id, name FROM t{i} WHERE doc ? 'active';")
    if i % 5 == 0:
        print(f"CREATE TRIGGER t{i}_touch BEFORE UPDATE ON t{i} FOR EACH ROW EXECUTE FUNCTION touch();")
PY
bench_log "loading $N tables"
"$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$(bench_db_url schema_bench)" -f "$BENCH_TMP/schema.sql" >/dev/null
URL=$(bench_db_url schema_bench)
PG_DUMP=$(dirname "$PSQL")/pg_dump
python3 - "$R" "$N" "$SHALE" "$URL" "$PG_DUMP" <<'PY'
import statistics, subprocess, sys, time
runs, n, shale, url, pg_dump = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
def median(cmd):
    times = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])
shale_s = median([shale, "--database-url", url, "dump", "-q"])
pg_s = median([pg_dump, "--schema-only", "--no-owner", "-d", url])
print(f"| schema of {n} tables | median of {runs} |")
print("| --- | ---: |")
print(f"| `shale dump` (introspection + SQL) | {shale_s*1000:.0f} ms |")
print(f"| `pg_dump --schema-only` | {pg_s*1000:.0f} ms |")
print(f"| ratio shale / pg_dump | {shale_s/pg_s:.2f}x |")
PY
