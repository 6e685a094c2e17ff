#!/usr/bin/env python3
"""Throughput of `backtester worker` processes against one server's own queue.

For each configuration: a fresh PostgreSQL database, `backtester serve`
(with `--workers 0` and W `backtester worker --concurrency 1` processes, or
executing runs itself with `--max-concurrent-runs W`), GOOG uploaded and
scripts/sma_cross.rhai created through the API, then N short runs (the SMA
cross over GOOG's 2,148 daily bars, distinct parameters each) submitted
one after another; the clock runs from the first submit until the last run
is completed. The overhead per claimed item is the 1-worker time minus the
1-slot in-process time, divided by N.

With --variants V, one sweep of V variants instead (the same strategy and
data, `fast` x `slow` grid): on a server it runs on W threads, on workers
in chunks; the clock runs from the submit until the sweep is completed, and
the overhead per claimed chunk is the 1-worker time minus the 1-slot time,
divided by the chunks.

    python3 benches/workers.py [--binary target/release/backtester] \
        [--postgres postgres://postgres@127.0.0.1:5432/test] [--runs 60 | --variants 500]

Standard library only; needs `psql` for creating the databases.
"""
import argparse
import json
import os
import subprocess
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def call(url, method="GET", body=None, content_type="application/json"):
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": content_type})
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read() or b"null")


def fresh_database(server, name):
    base, admin_db = server.rsplit("/", 1)
    for sql in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
        subprocess.run(["psql", server, "-q", "-c", sql], check=True)
    return f"{base}/{name}"


def grid(variants):
    """A fast x slow grid of about `variants` variants (slow in 10 steps)."""
    fast = max(1, variants // 10)
    return [f"fast=2:{1 + fast}:1", "slow=60:105:5"], fast * 10


def measure(binary, server, runs, workers, in_process, variants=None):
    name = f"bt_bench_workers_{os.getpid()}_{workers}_{int(in_process)}"
    db = fresh_database(server, name)
    serve_args = ["--max-concurrent-runs", str(workers)] if in_process else ["--workers", "0"]
    serve = subprocess.Popen([binary, "serve", "--bind", "127.0.0.1:0", "--database-url", db, *serve_args],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    children = [serve]
    try:
        url = serve.stdout.readline().strip().removeprefix("listening on ")
        with open(os.path.join(ROOT, "data/GOOG.csv"), "rb") as f:
            call(f"{url}/api/datasets?symbol=GOOG", "POST", f.read(), "text/csv")
        with open(os.path.join(ROOT, "scripts/sma_cross.rhai")) as f:
            strategy = call(f"{url}/api/strategies", "POST", {"name": "sma", "runtime": "rhai", "source": f.read()})
        if not in_process:
            for _ in range(workers):
                children.append(subprocess.Popen(
                    [binary, "worker", "--database-url", db, "--concurrency", "1"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            time.sleep(1.0)  # listening
        started = time.monotonic()
        if variants:
            axes, total = grid(variants)
            body = {"strategy_id": strategy["id"], "symbols": ["GOOG"], "initial_capital": 100000, "grid": axes}
            sweep = call(f"{url}/api/sweeps", "POST", body)
            # Every 100 ms: a status read costs the server and the database
            # CPU that the executors share on a small machine.
            while (status := call(f"{url}/api/sweeps/{sweep['id']}")["status"]) not in ("completed", "failed", "cancelled"):
                time.sleep(0.1)
            assert status == "completed", f"sweep {sweep['id']} {status}"
            return time.monotonic() - started
        ids = []
        for n in range(runs):
            body = {"strategy_id": strategy["id"], "symbols": ["GOOG"], "initial_capital": 100000,
                    "params": {"fast": 3 + n % 10, "slow": 20 + n // 10}}
            ids.append(call(f"{url}/api/runs", "POST", body)["id"])
        for run_id in ids:
            while (status := call(f"{url}/api/runs/{run_id}")["status"]) not in ("completed", "failed", "cancelled"):
                time.sleep(0.005)
            assert status == "completed", f"run {run_id} {status}"
        return time.monotonic() - started
    finally:
        for child in children:
            child.terminate()
            child.wait()
        subprocess.run(["psql", server, "-q", "-c", f"DROP DATABASE IF EXISTS {name}"], check=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=os.path.join(ROOT, "target/release/backtester"))
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432/test")
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--variants", type=int, help="one sweep of about this many variants instead of runs")
    args = parser.parse_args()
    results = {}
    if args.variants:
        _, items = grid(args.variants)
        unit, claimed = "variants/s", -(-items // min(256, max(4, -(-items // 64)))) + 1
        print(f"a sweep of {items} variants of sma_cross.rhai over GOOG (2,148 bars), {args.binary}")
    else:
        items, unit, claimed = args.runs, "runs/s", args.runs
        print(f"{args.runs} runs of sma_cross.rhai over GOOG (2,148 bars) each, {args.binary}")
    for in_process in (True, False):
        for workers in (1, 2, 4):
            seconds = measure(args.binary, args.postgres, args.runs, workers, in_process, args.variants)
            results[(in_process, workers)] = seconds
            what = f"serve, {workers} slot(s)" if in_process else f"{workers} worker(s) x 1"
            print(f"{what:24} {seconds:6.2f} s  {items / seconds:8.1f} {unit}", flush=True)
    overhead = (results[(False, 1)] - results[(True, 1)]) / claimed * 1000
    kind = "chunk" if args.variants else "run"
    print(f"overhead per claimed {kind} (1 worker vs 1 slot, {claimed} claimed): {overhead:.1f} ms")


if __name__ == "__main__":
    main()
