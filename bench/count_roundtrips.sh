#!/usr/bin/env bash
# Count the round trips (statements sent) of a no-op `shale up` after it has connected.
#
#   bench/count_roundtrips.sh [N]     N migrations, all applied first (default 1000)
#
# Builds target/release/shale (cargo build --release -p shale-cli; SKIP_BUILD=1 to skip), starts
# a throwaway server with `shale dev start` in a temporary project under /tmp, applies the
# generated workload to a dedicated database, then runs one no-op `shale up` with every statement
# logged (log_min_duration_statement = 0, log_line_prefix '%m [%p] %a ') between two markers
# logged from psql, and counts the log entries of application `shale` between them. Prints the
# count on stdout (the statements themselves on stderr). Target: at most 2.
set -euo pipefail

N=${1:-1000}
SEED=${SEED:-20251125}
[[ $N =~ ^[1-9][0-9]*$ ]] || { echo "usage: bench/count_roundtrips.sh [N]" >&2; exit 2; }
export LC_ALL=C

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_begin

DIR=$BENCH_TMP/migrations
python3 "$ROOT/bench/gen_workload.py" "$N" "$DIR" --seed "$SEED"
bench_recreate_db bench_roundtrips
URL=$(bench_db_url bench_roundtrips)
bench_log "applying $N migrations with shale up (untimed)"
(cd "$BENCH_PROJECT" && "$SHALE" --database-url "$URL" --dir "$DIR" up -q)

bench_log "no-op shale up with statement logging; statements it sent:"
result=$(bench_count_roundtrips bench_roundtrips "$DIR")
python3 - "$result" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
for p in r["problems"]:
    print("server reported: " + p, file=sys.stderr)
print(r["round_trips"])
PY
