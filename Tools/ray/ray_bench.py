#!/usr/bin/env python3
"""Throughput and latency of a shard set on Ray against one scan-serve, in one run (synthetic world).

For each configuration: `--requests` GET /search queries (two-stage, top 10, K candidates, test
captions in turn) from `c` client threads, after a warm-up. Printed per configuration: queries/s,
p50/p99 latency, errors, CPU seconds per query of all the serving processes (scan-serve, Ray's
workers, proxy and raylets: /proc utime+stime), and per-core efficiency = queries per CPU-second
relative to one scan-serve (the yardstick, 1.00). Also printed: the query's encode time against a
shard's whole search time (what encoding once instead of per shard could save), and the resident
memory of one scan-serve per shard (for the projection in docs/BEYOND_ONE_MACHINE.md).

  swift build -c release --product scan-serve && swift build --build-tests
  nice python3 Tools/ray/ray_bench.py --bin-dir .build/release [--test-images 2000] [--requests 300]
"""
import argparse
import concurrent.futures as cf
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "python"))

from cluster import LoopbackCluster  # noqa: E402
from http_client import get, search_url  # noqa: E402
from ray_test import deploy, scan_serve_pids, shard_dirs  # noqa: E402
from scan_ray.serve_process import ServeProcess  # noqa: E402
from world import build_world  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids):
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / TICK


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def load(base, captions, requests, clients, k):
    urls = [search_url(base, captions[i % len(captions)], top=10, candidates=k) for i in range(requests)]
    for u in urls[:20]:
        get(u)

    def one(u):
        t = time.perf_counter()
        s, a = get(u, timeout=60)
        ok = s == 200 and (not isinstance(a, dict) or "shards" not in a or not a["shards"]["missing"])
        return time.perf_counter() - t, ok, a if isinstance(a, dict) else {}
    t0 = time.perf_counter()
    with cf.ThreadPoolExecutor(clients) as pool:
        out = list(pool.map(one, urls))
    wall = time.perf_counter() - t0
    lat = sorted(x[0] for x in out)
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000  # noqa: E731
    return {"qps": requests / wall, "p50": p(0.50), "p99": p(0.99), "errors": sum(1 for x in out if not x[1]), "wall": wall,
            "answers": [x[2] for x in out]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin-dir", default=os.path.join(ROOT, ".build", "release"), help="scan-serve (release) for the measured servers")
    ap.add_argument("--tools-bin-dir", default=os.path.join(ROOT, ".build", "debug"),
                    help="the tools that build the world and read manifests (their speed is not measured)")
    ap.add_argument("--root", default=os.path.join(ROOT, ".build", "ray-bench"))
    ap.add_argument("--test-images", type=int, default=2000)
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--candidates", type=int, default=100)
    ap.add_argument("--port", type=int, default=18660)
    ap.add_argument("--ray-port", type=int, default=6395)
    ap.add_argument("--world-only", action="store_true", help="build the world and the shards, measure nothing")
    args = ap.parse_args()
    args.bin_dir = os.path.abspath(args.bin_dir)
    w = build_world(args.root, os.path.abspath(args.tools_bin_dir), test_images=args.test_images)
    if args.world_only:
        return
    captions = w["captions"]
    print(f"world: {len(captions) // 5} images (synthetic), {len(captions)} captions; binaries {args.bin_dir}; "
          f"load average at start {os.getloadavg()[0]:.1f}", flush=True)
    cluster = LoopbackCluster(temp_root=f"/tmp/rsh{args.ray_port}", port=args.ray_port, head_cpus=2)
    rows = []
    ref = None
    try:
        ref = ServeProcess(os.path.join(args.bin_dir, "scan-serve"), w["whole"])
        for c in args.clients:
            before = cpu_seconds([ref.pid])
            r = load(ref.base_url, captions, args.requests, c, args.candidates)
            r["cpu_per_q"] = (cpu_seconds([ref.pid]) - before) / args.requests
            rows.append(("scan-serve (one process, whole index)", c, r))
            print_row(rows[-1], rows[0][2])
        enc = [a["timings_ms"]["encode"] for a in rows[0][2]["answers"] if "timings_ms" in a]
        tot = [a["timings_ms"]["total"] for a in rows[0][2]["answers"] if "timings_ms" in a]
        print(f"encode vs whole search inside scan-serve: median encode {statistics.median(enc):.3f} ms of median total "
              f"{statistics.median(tot):.3f} ms ({100 * statistics.median(enc) / statistics.median(tot):.1f}%)", flush=True)
        whole_rss = rss_mb(ref.pid)
        ref.stop()
        ref = None
        cluster.start(workers=0)
        for n in (1, 2, 4):
            base = deploy(args, shard_dirs(w["prefix"], n), replicas=1)
            for c in args.clients:
                pids = cluster.pids()
                before = cpu_seconds(pids)
                r = load(base, captions, args.requests, c, args.candidates)
                r["cpu_per_q"] = (cpu_seconds(cluster.pids()) - before) / args.requests
                rows.append((f"Ray ingress, {n} shard(s) x 1 replica", c, r))
                print_row(rows[-1], next(x[2] for x in rows if x[1] == c))
            if n > 1:
                encs = [a["timings_ms"]["encode"] for a in rows[-1][2]["answers"] if "timings_ms" in a]
                shard = [a["timings_ms"]["shard_total_max"] for a in rows[-1][2]["answers"] if "timings_ms" in a]
                print(f"  {n} shards: median encode {statistics.median(encs):.3f} ms per shard, median slowest shard "
                      f"{statistics.median(shard):.3f} ms; encoding once would save at most {n - 1} x encode per query", flush=True)
            rss = [rss_mb(p) for d in shard_dirs(w["prefix"], n) for p in scan_serve_pids(d)]
            print(f"  resident memory of the {n} shard scan-serve processes: {', '.join(f'{x:.0f} MB' for x in rss)} "
                  f"(whole-index scan-serve {whole_rss:.0f} MB)", flush=True)
    finally:
        if ref:
            ref.stop()
        stopped = cluster.stop()
        print(f"Ray cluster stopped ({len(stopped)} processes); load average at end {os.getloadavg()[0]:.1f}")


def print_row(row, yard):
    name, c, r = row
    eff = (1 / r["cpu_per_q"]) / (1 / yard["cpu_per_q"]) if r["cpu_per_q"] > 0 and yard["cpu_per_q"] > 0 else float("nan")
    print(f"| {name} | {c} | {r['qps']:.1f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['errors']} | {1000 * r['cpu_per_q']:.2f} | {eff:.2f} |",
          flush=True)


if __name__ == "__main__":
    print("| configuration | clients | queries/s | p50 ms | p99 ms | errors | CPU ms/query | per-core efficiency vs scan-serve |")
    print("|---|---|---|---|---|---|---|---|")
    main()
