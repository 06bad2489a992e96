#!/usr/bin/env python3
"""The busy-table benchmark, driven by bench/lockwait.sh (which starts the server).

For each way of running `ALTER TABLE pgbench_accounts ADD COLUMN ...` and each run, on a fresh
database: pgbench clients read the table (select-only) for the whole run; after 2 s a report
session reads the table and keeps its transaction open for HOLD seconds; 0.5 s later the
migration starts. From pgbench's per-transaction log: the worst latency, the 99th and 99.9th
percentiles, and how many transactions took over 100 ms; and how long the migration took to land.
Prints a markdown section on stdout (medians over the runs).
"""

import argparse
import glob
import os
import platform
import statistics
import subprocess
import sys
import time

MIGRATION = "ALTER TABLE pgbench_accounts ADD COLUMN note text;\n"
LEAD = 2.0  # seconds of load before the report starts
GAP = 0.5  # seconds between the report starting and the migration starting
TAIL = 3.0  # seconds of load after the report ends


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(args, **kw):
    return subprocess.run(args, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def percentile(sorted_values, fraction):
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def one_run(opts, way, command, index):
    db = f"lockwait_{way.replace(' ', '_').replace('-', '_')}_{index}"
    admin = opts.url_template.replace("DBNAME", "postgres")
    url = opts.url_template.replace("DBNAME", db)
    run([opts.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", admin,
         "-c", "SET client_min_messages = warning", "-c", f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)',
         "-c", f'CREATE DATABASE "{db}"'])
    run([opts.pgbench, "-i", "-q", "-s", "1", url])
    project = os.path.join(opts.work, f"project_{db}")
    os.makedirs(os.path.join(project, "migrations"), exist_ok=True)
    with open(os.path.join(project, "migrations", "001_add_note.sql"), "w") as f:
        f.write(MIGRATION)

    duration = int(LEAD + GAP + opts.hold + TAIL + 1)
    prefix = os.path.join(opts.work, f"pgbench_{db}")
    load = subprocess.Popen(
        [opts.pgbench, "-n", "-b", "select-only", "-c", str(opts.clients), "-j", "2", "-T", str(duration),
         "-l", "--log-prefix", prefix, url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(LEAD)
    report = None
    if opts.hold > 0:
        report = subprocess.Popen(
            [opts.psql, "-X", "-q", "-d", url, "-c",
             f"BEGIN; SELECT count(*) FROM pgbench_accounts; SELECT pg_sleep({opts.hold}); COMMIT;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(GAP)
    args = [a.replace("$URL", url) for a in command]
    started = time.perf_counter()
    migration = subprocess.run(args, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    landed_after = time.perf_counter() - started
    if report:
        report.wait()
    out, err = load.communicate()
    if load.returncode != 0:
        sys.exit(f"bench: pgbench failed: {err}")
    if migration.returncode != 0:
        sys.exit(f"bench: {way} failed (exit {migration.returncode}): {migration.stderr}")
    has_column = run([opts.psql, "-X", "-A", "-t", "-d", url, "-c",
                      "SELECT count(*) FROM information_schema.columns WHERE table_name = 'pgbench_accounts' AND column_name = 'note'"]).stdout.strip()
    if has_column != "1":
        sys.exit(f"bench: {way} exited 0 but the column is not there")

    latencies = []
    for path in glob.glob(prefix + ".*"):
        with open(path) as f:
            for line in f:
                fields = line.split()
                if len(fields) >= 3:
                    latencies.append(int(fields[2]) / 1000.0)  # microseconds -> ms
        os.remove(path)
    latencies.sort()
    tps = next((l.split("=")[1].split()[0] for l in out.splitlines() if l.startswith("tps")), "?")
    return {
        "worst_ms": latencies[-1] if latencies else float("nan"),
        "p99_ms": percentile(latencies, 0.99),
        "p999_ms": percentile(latencies, 0.999),
        "over_100ms": sum(1 for v in latencies if v > 100.0),
        "transactions": len(latencies),
        "tps": float(tps) if tps != "?" else float("nan"),
        "landed_s": landed_after,
    }


def main():
    parser = argparse.ArgumentParser()
    for name in ("psql", "pgbench", "shale", "work", "url-template"):
        parser.add_argument("--" + name, required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--hold", type=float, default=3.0)
    opts = parser.parse_args()

    ways = [
        ("psql", [opts.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "$URL", "-c", MIGRATION.strip()]),
        # What shale did before waiting without queueing: queue with a lock_timeout, retried.
        ("shale, queue + lock_timeout 500ms retried", [opts.shale, "--database-url", "$URL", "up", "-q",
                                                      "--lock-acquire", "queue", "--session-lock-timeout", "500ms"]),
        ("shale (wait-clear)", [opts.shale, "--database-url", "$URL", "up", "-q"]),
    ]
    results = {}
    for i in range(opts.runs):
        for way, command in ways:  # interleaved, so drift in the machine's load hits every way alike
            r = one_run(opts, way, command, i)
            log(f"{way} run {i + 1}: worst {r['worst_ms']:.1f} ms, p99 {r['p99_ms']:.2f} ms, "
                f"{r['over_100ms']} over 100 ms, landed after {r['landed_s']:.2f} s")
            results.setdefault(way, []).append(r)

    def median(way, key):
        return statistics.median(r[key] for r in results[way])

    server = run([opts.psql, "-X", "-A", "-t", "-d", opts.url_template.replace("DBNAME", "postgres"),
                  "-c", "SHOW server_version"]).stdout.strip()
    print("<!-- lockwait:start (written by bench/lockwait.sh) -->")
    print("## ALTER TABLE on a busy table (`bench/lockwait.sh`)\n")
    print(f"{opts.clients} pgbench clients read `pgbench_accounts` (100,000 rows, select-only) throughout; "
          f"a report keeps a transaction on it open for {opts.hold:g} s; `{MIGRATION.strip()}` starts "
          f"{GAP:g} s into the report. Application latency from pgbench's per-transaction log, "
          f"medians of {opts.runs} run(s) per way.\n")
    print("| way | worst latency | p99 | p99.9 | transactions over 100 ms | tps | migration landed after |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for way, _ in ways:
        print(f"| {way} | {median(way, 'worst_ms'):.1f} ms | {median(way, 'p99_ms'):.2f} ms | "
              f"{median(way, 'p999_ms'):.2f} ms | {median(way, 'over_100ms'):.0f} | {median(way, 'tps'):.0f} | "
              f"{median(way, 'landed_s'):.2f} s |")
    print()
    print(f"Machine: {platform.machine()}, {os.cpu_count()} CPUs; PostgreSQL {server}; "
          f"{time.strftime('%Y-%m-%d')}.")
    print("<!-- lockwait:end -->")


if __name__ == "__main__":
    main()
