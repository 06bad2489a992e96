#!/usr/bin/env bash
# Lint throughput: `shale lint --all` over N generated migration files (default 1000), median of R runs.
# Usage: bench/lint.sh [N]    (R=10 by default; SKIP_BUILD=1 to skip the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
R=${R:-10}
[ "${SKIP_BUILD:-}" = 1 ] || cargo build --release -q -p shale-cli
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/gen_workload.py "$N" "$work/migrations" >/dev/null
cd "$work"
python3 - "$R" "$N" "$OLDPWD/target/release/shale" <<'PY'
import statistics, subprocess, sys, time
runs, n, shale = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
times = []
for _ in range(runs + 1):
    start = time.perf_counter()
    subprocess.run([shale, "lint", "--all", "-q"], stdout=subprocess.DEVNULL, check=False)
    times.append(time.perf_counter() - start)
median = statistics.median(times[1:])  # the first run warms the page cache
print(f"shale lint --all over {n} files: median {median*1000:.1f} ms = {n/median:,.0f} files/s (R={runs}, whole process)")
PY
