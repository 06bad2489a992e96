#!/usr/bin/env python3
"""Render bench/run.sh's measurements as markdown (reads BENCH_* variables and the JSON results)."""

import json
import os
import platform
import shlex
import sys
import time

env = os.environ
RES = env["BENCH_RES"]
N, R = int(env["BENCH_N"]), int(env["BENCH_R"])

# Targets from the benchmark issue (N=1000 on loopback).
TARGET_SHALE_VS_PER_FILE = 1.2
TARGET_SINGLE_VS_PSQL_1 = 1.1
TARGET_NOOP_MS = 25.0
TARGET_ROUND_TRIPS = 2
TARGET_RSS_MB = 30.0


def load(name):
    with open(os.path.join(RES, name + ".json")) as f:
        return json.load(f)


a, b, c, d, e, f, g = (load(x) for x in "abcdefg")


def secs(r):
    return f"{r['median_s']:.3f} s"


def spread(r, scale=1.0, unit="s", digits=3):
    return f"{r['min_s'] * scale:.{digits}f}–{r['max_s'] * scale:.{digits}f} {unit}"


def verdict(ok):
    return "✓ met" if ok else "✗ missed"


def short(argv):
    """Command line with the temp paths replaced by $DIR, $ALL, $URL, for the table."""
    text = shlex.join(argv)
    for value, name in [
        (env["BENCH_DIR"], "$DIR"),
        (env["BENCH_ALL"], "$ALL"),
        (env["BENCH_SHALE"], "target/release/shale"),
        (env["BENCH_PSQL"], "psql"),
    ]:
        text = text.replace(value, name)
    for key in "ABCDEF":
        text = text.replace(shlex.quote(env["BENCH_URL_" + key]), "$URL")
    return text


DIR, ALL, PSQL, SHALE = env["BENCH_DIR"], env["BENCH_ALL"], env["BENCH_PSQL"], env["BENCH_SHALE"]
per_file_loop = 'for f in $DIR/*.sql; do psql -X -q -v ON_ERROR_STOP=1 -d $URL -f "$f"; done'
per_file_exact = (
    f"for f in {shlex.quote(DIR)}/*.sql; do {shlex.quote(PSQL)} -X -q -v ON_ERROR_STOP=1 "
    f"-d {shlex.quote(env['BENCH_URL_A'])} -f \"$f\"; done"
)
cmd_b = [PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-d", env["BENCH_URL_B"], "-f", ALL]
cmd_c = [SHALE, "--database-url", env["BENCH_URL_C"], "--dir", DIR, "up", "-q"]
cmd_d = cmd_c[:2] + [env["BENCH_URL_D"]] + cmd_c[3:] + ["--single-transaction"]
cmd_e = cmd_c[:2] + [env["BENCH_URL_E"]] + cmd_c[3:]
cmd_f = cmd_c[:2] + [env["BENCH_URL_F"]] + cmd_c[3:]

ratio_c = c["median_s"] / a["median_s"]
ratio_d = d["median_s"] / b["median_s"]
noop_ms = e["median_s"] * 1000
rss_mib = f["max_rss_kb"] / 1024
rss_mb = f["max_rss_kb"] * 1024 / 1e6  # the target is in MB; compared strictly, in 10^6 bytes
trips = g["round_trips"]

rows = [
    ("a", "floor 1: psql, one process per file", secs(a), spread(a), "1.00 (floor)", "", per_file_loop),
    ("b", "floor 2: psql -1, all files concatenated", secs(b), spread(b), "1.00 (floor)", "",
     short(cmd_b)),
    ("c", "shale up", secs(c), spread(c), f"{ratio_c:.2f}× a",
     f"≤ {TARGET_SHALE_VS_PER_FILE}× a: {verdict(ratio_c <= TARGET_SHALE_VS_PER_FILE)}", short(cmd_c)),
    ("d", "shale up --single-transaction", secs(d), spread(d), f"{ratio_d:.2f}× b",
     f"≤ {TARGET_SINGLE_VS_PSQL_1}× b: {verdict(ratio_d <= TARGET_SINGLE_VS_PSQL_1)}", short(cmd_d)),
    ("e", f"no-op shale up, {N} applied", f"{noop_ms:.1f} ms", spread(e, 1000, "ms", 1), "",
     f"< {TARGET_NOOP_MS:g} ms: {verdict(noop_ms < TARGET_NOOP_MS)}", short(cmd_e)),
    ("f", "peak RSS of shale up (c)", f"{rss_mb:.1f} MB ({rss_mib:.1f} MiB)", f"max of {f['runs']} run(s)", "",
     f"< {TARGET_RSS_MB:g} MB: {verdict(rss_mb < TARGET_RSS_MB)}", short(cmd_f)),
    ("g", "round trips of no-op up after connecting", str(trips), "1 run", "",
     f"≤ {TARGET_ROUND_TRIPS}: {verdict(trips <= TARGET_ROUND_TRIPS)}", short(cmd_e)),
]


def cpu_model():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def mem_total():
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def cell(text):
    return text.replace("|", "\\|")


out = []
w = out.append
w(f"# shale benchmark: N={N} migrations, median of R={R} runs")
w("")
w(f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}, shale {env['BENCH_GIT_REV']}; "
  f"timing: {a['tool']}; transport: {env['BENCH_TRANSPORT']}"
  f"{' (Unix socket)' if env['BENCH_TRANSPORT'] == 'socket' else ' (127.0.0.1)'}.")
w("")
w("| | measurement | median | min–max | ratio | target (N=1000) | command |")
w("| --- | --- | ---: | ---: | ---: | --- | --- |")
for key, what, median, rng, ratio, target, cmd in rows:
    w(f"| {key} | {what} | {median} | {rng} | {ratio} | {target} | `{cell(cmd)}` |")
w("")
w("Every run of a–d and f starts on a freshly created database (untimed: `DROP DATABASE`, "
  "`CREATE DATABASE`, `CHECKPOINT`); after each measurement the script checks that all tables "
  "(and for shale all history rows) are there. e runs on a database migrated once beforehand, "
  "after one warm-up run. g counts server log entries (see bench/README.md).")
if N != 1000:
    w("")
    w(f"Note: the targets are stated for N=1000; this run used N={N}.")
w("")
w("## Machine")
w("")
w(f"- CPU: {cpu_model()}, nproc {os.cpu_count()} (affinity: {len(os.sched_getaffinity(0))}), "
  f"memory {mem_total()}, {platform.system()} {platform.release()}")
w(f"- load average (1/5/15 min): {env['BENCH_LOAD_START']} at start, {env['BENCH_LOAD_END']} at end")
w(f"- PostgreSQL: {env['BENCH_SERVER_VERSION']}")
w(f"- server settings (the `shale dev` defaults): {env['BENCH_SERVER_SETTINGS']}")
w(f"- client: {env['BENCH_PSQL_VERSION']}; {env['BENCH_SHALE_VERSION']} "
  f"(git {env['BENCH_GIT_REV']}, release build)")
w(f"- workload: `bench/gen_workload.py {N} $DIR --seed {env['BENCH_SEED']}`, "
  f"{int(env['BENCH_WORKLOAD_BYTES']):,} bytes of SQL")
w("")
w("## Exact commands")
w("")
w("```sh")
w(f"DIR={shlex.quote(DIR)}")
w(f"ALL={shlex.quote(ALL)}  # cat $DIR/*.sql")
w(f"# a\n{per_file_exact}")
w(f"# b\n{shlex.join(cmd_b)}")
w(f"# c\n{shlex.join(cmd_c)}")
w(f"# d\n{shlex.join(cmd_d)}")
w(f"# e (after one untimed `shale up` on the same database)\n{shlex.join(cmd_e)}")
rss_prefix = "/usr/bin/time -f %M " if f["tool"].startswith("/usr/bin/time") else ""
w(f"# f ({f['tool']})\n{rss_prefix}{shlex.join(cmd_f)}")
w("```")
if g["statements"]:
    w("")
    w(f"Statements of the no-op `shale up` (g), as logged by the server:")
    w("")
    for s in g["statements"]:
        one = " ".join(s.split())
        w(f"- `{cell(one[:200] + (' …' if len(one) > 200 else ''))}`")
for p in g["problems"]:
    w(f"- server reported: `{cell(' '.join(p.split())[:200])}`")
print("\n".join(out))
