#!/usr/bin/env python3
"""Time a command R times and print one JSON object with the median (used by bench/run.sh).

Usage:
  measure.py time [--runs R] [--warmup W] [--prepare CMD...] [--tool python|hyperfine] -- CMD ARGS...
  measure.py rss  [--runs R] [--prepare CMD...] -- CMD ARGS...
  measure.py interleave [--runs R] [--warmup W] -- COMMANDS.json

`time`: before every run (warmups included) each --prepare command runs, untimed (e.g. a fresh
database). The wall time of CMD is measured from spawn to exit: with python3's perf_counter around
fork/exec/wait4, or with hyperfine (`--shell=none`, so no shell start-up is in the numbers).
Prints {"tool", "runs", "median_s", "min_s", "max_s", "times_s", "max_rss_kb"?}. A failing
command (or prepare) aborts with its exit status. With the python timer it also prints the CPU
time of each run: "cpu_s" (user + system of CMD and every process it waited for, from wait4's
rusage) and, given --server-pid PID (the postmaster), "server_cpu_s": the CPU time of the
server's backends that ended during the run (the postmaster's reaped-children times from
/proc/PID/stat), that is the server work of a client that connected and left within the run.

`rss`: peak resident set size of CMD itself, in KiB: `/usr/bin/time -f %M` when present, else
the ru_maxrss that wait4() returns for that one child (what getrusage(RUSAGE_CHILDREN) gives when
CMD is the only child). Prints {"tool", "runs", "max_rss_kb", "rss_kb"}.

`interleave`: COMMANDS.json maps names to argument vectors; each round runs every command once,
in turn, so that all of them see the same machine (a 2-core host busy with other work changes
speed from second to second). Prints {NAME: {"median_s", "cpu_median_s", "times_s", "cpu_s"}}.

Commands are argument vectors: no shell is involved; wrap in `bash -c` where one is wanted.
"""

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def run_checked(argv, what):
    # What the command prints goes to stderr: stdout carries only this script's JSON.
    result = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=sys.stderr)
    if result.returncode != 0:
        sys.exit(f"measure.py: {what} failed with exit status {result.returncode}: {shlex.join(argv)}")


def spawn_wait(argv):
    """(seconds, ru_maxrss KiB, CPU seconds) for one run of argv, which must succeed."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=sys.stderr)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"measure.py: command failed with exit status {proc.returncode}: {shlex.join(argv)}")
    return elapsed, usage.ru_maxrss, usage.ru_utime + usage.ru_stime


def reaped_children_cpu(pid):
    """CPU seconds of the children `pid` has reaped (cutime + cstime of /proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        # The command name may hold spaces: the fields after it start past the last ')'.
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state); cutime and cstime are fields 16 and 17.
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def time_python(args):
    for _ in range(args.warmup):
        for p in args.prepare:
            run_checked(shlex.split(p), "prepare")
        spawn_wait(args.command)
    times, rss, cpu, server_cpu = [], [], [], []
    for _ in range(args.runs):
        for p in args.prepare:
            run_checked(shlex.split(p), "prepare")
        before = reaped_children_cpu(args.server_pid) if args.server_pid else None
        t, kb, c = spawn_wait(args.command)
        if before is not None:
            server_cpu.append(reaped_children_cpu(args.server_pid) - before)
        times.append(t)
        rss.append(kb)
        cpu.append(c)
    result = {"tool": "python3", "times_s": times, "max_rss_kb": max(rss), "cpu_s": cpu}
    if args.server_pid:
        result["server_cpu_s"] = server_cpu
    return result


def time_hyperfine(args):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "result.json")
        argv = [
            "hyperfine", "--shell=none", "--style", "none", "--runs", str(args.runs),
            "--warmup", str(args.warmup), "--export-json", out,
        ]
        for p in args.prepare:
            argv += ["--prepare", p]
        argv.append(shlex.join(args.command))
        result = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        if result.returncode != 0:
            sys.exit(f"measure.py: hyperfine failed (exit {result.returncode}): {shlex.join(argv)}")
        with open(out) as f:
            data = json.load(f)["results"][0]
    return {"tool": "hyperfine", "times_s": data["times"]}


def rss(args):
    gnu_time = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
    values = []
    for _ in range(args.runs):
        for p in args.prepare:
            run_checked(shlex.split(p), "prepare")
        if gnu_time:
            with tempfile.NamedTemporaryFile("r") as f:
                run_checked([gnu_time, "-f", "%M", "-o", f.name] + args.command, "command")
                values.append(int(f.read().strip().splitlines()[-1]))
        else:
            values.append(spawn_wait(args.command)[1])
    tool = "/usr/bin/time -f %M" if gnu_time else "python3 wait4 ru_maxrss"
    return {"tool": tool, "runs": args.runs, "rss_kb": values, "max_rss_kb": max(values)}


def interleave(args):
    with open(args.command[0]) as f:
        commands = json.load(f)
    for _ in range(args.warmup):
        for argv in commands.values():
            spawn_wait(argv)
    results = {name: {"times_s": [], "cpu_s": []} for name in commands}
    for _ in range(args.runs):
        for name, argv in commands.items():
            t, _, c = spawn_wait(argv)
            results[name]["times_s"].append(t)
            results[name]["cpu_s"].append(c)
    for r in results.values():
        r["median_s"] = statistics.median(r["times_s"])
        r["cpu_median_s"] = statistics.median(r["cpu_s"])
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=["time", "rss", "interleave"])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=0)
    ap.add_argument("--prepare", action="append", default=[],
                    help="command line (split like a shell would, no shell) run before each run")
    ap.add_argument("--tool", choices=["auto", "python", "hyperfine"], default="auto")
    ap.add_argument("--server-pid", type=int, help="the postmaster: also report its backends' CPU time")
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)
    args = ap.parse_args(argv[:split])
    args.command = argv[split + 1:]
    if not args.command:
        ap.error("no command given (put it after --)")
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    if args.mode == "rss":
        print(json.dumps(rss(args)))
        return
    if args.mode == "interleave":
        print(json.dumps(interleave(args)))
        return
    tool = args.tool
    if tool == "auto":
        tool = "hyperfine" if shutil.which("hyperfine") else "python"
    result = time_hyperfine(args) if tool == "hyperfine" else time_python(args)
    times = result["times_s"]
    result.update(
        runs=len(times),
        median_s=statistics.median(times),
        min_s=min(times),
        max_s=max(times),
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
