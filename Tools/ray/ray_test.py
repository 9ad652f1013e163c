#!/usr/bin/env python3
"""Shards served on a Ray cluster, end to end, on this machine's loopback (synthetic demo world).

1. Equality: the whole index split into 1, 2 and 4 shards; for every test caption, exact mode through
   the Ray ingress returns the ids and scores (<= 1e-5) of one scan-serve over the unsharded index;
   two-stage mode with K candidates per shard keeps, query by query, at least the retention of one
   index at the same K (the union of the shards' K best prefilter candidates contains the whole
   index's K best).
2. Shards built in parallel by Ray tasks (`python -m scan_ray build`) equal shards built one by one
   with `scan-index build --shard i/N`, and the shards `scan-index split` cuts: verify passes, equal
   image counts, set fingerprints and content fingerprints.
3. A lost replica: 2 shards x 2 replicas on a 2-node cluster (head on 127.0.0.2, worker on 127.0.0.3: loopback). One
   replica's scan-serve is SIGKILLed while a client sends 200 queries: every answer is complete or
   explicitly partial, and full answers resume within RESUME_BOUND_S. Then both replicas of one
   shard are killed: answers are explicitly partial ("missing": [1]) until Ray has replaced them,
   /metrics counts those partial answers, and full answers resume within RESUME_BOUND_S.

Run: Tools/ray-test.sh (builds what it needs). Prints one line per check and exits non-zero on a failure.
"""
import argparse
import concurrent.futures as cf
import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "python"))

from cluster import LoopbackCluster  # noqa: E402
from http_client import get, search_url, wait_until  # noqa: E402
from world import build_world  # noqa: E402
from scan_ray.serve_process import ServeProcess  # noqa: E402
from scan_ray.xxh64 import shard_of  # noqa: E402

RESUME_BOUND_S = 60.0
failures = []


def check(ok: bool, what: str):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def deploy(args, shard_dirs, replicas, deadline_ms=2000):
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
    t0 = time.monotonic()
    r = subprocess.run(["nice", sys.executable, "-m", "scan_ray", "deploy", "--address", f"127.0.0.2:{args.ray_port}",
                        "--bin-dir", args.bin_dir, "--shards", *shard_dirs, "--replicas", str(replicas),
                        "--port", str(args.port), "--deadline-ms", str(deadline_ms)],
                       capture_output=True, text=True, env=env, timeout=600)
    if r.returncode != 0:
        sys.exit(f"deploy failed: {r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    base = f"http://127.0.0.1:{args.port}"

    def ready():
        s, info = get(base + "/info", timeout=10)
        s2, h = get(base + "/healthz", timeout=10)
        return s == 200 and info["shards"]["total"] == len(shard_dirs) and info["shards"]["answered"] == len(shard_dirs) \
            and s2 == 200 and h["status"] == "ok"
    wait_until(ready, 300, what=f"{len(shard_dirs)} shards x {replicas} replicas ready")
    print(f"     deployed {len(shard_dirs)} shards x {replicas} replicas in {time.monotonic() - t0:.1f} s: {r.stdout.strip()}", flush=True)
    return base


def shard_dirs(prefix, n):
    return [f"{prefix}-{i}-of-{n}" for i in range(n)]


def scan_serve_pids(shard_dir):
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"scan-serve") and shard_dir.encode() in argv:
            out.append(int(p))
    return sorted(out)


def test_equality(args, w, ref_base):
    captions = w["captions"]
    pool = cf.ThreadPoolExecutor(4)
    ref = dict(zip(captions, pool.map(lambda q: get(search_url(ref_base, q, mode="exact", top=10))[1], captions)))
    sub = captions[::2]
    ks = (5, 10)
    ref_two = {k: dict(zip(sub, pool.map(lambda q: get(search_url(ref_base, q, mode="two-stage", top=5, candidates=k))[1], sub)))
               for k in ks}
    for n in (1, 2, 4):
        dirs = shard_dirs(w["prefix"], n)
        # Every image lands in the shard XXH64(id) mod n names (checked with the Python XXH64, independent
        # of the Swift one): each shard's scan-serve lists all its images (exact mode, top 100 >= images).
        placed, misplaced = 0, []
        for i, d in enumerate(dirs):
            sp = ServeProcess(os.path.join(args.bin_dir, "scan-serve"), d)
            try:
                ids = [r["id"] for r in get(search_url(sp.base_url, captions[0], mode="exact", top=100))[1]["results"]]
            finally:
                sp.stop()
            placed += len(ids)
            misplaced += [x for x in ids if shard_of(x, n) != i]
        check(placed == len(captions) // 5 and not misplaced,
              f"{n} shard(s): all {placed} images placed by XXH64(id) mod {n} (misplaced: {misplaced[:5]})")
        base = deploy(args, dirs, replicas=1)
        got = dict(zip(captions, pool.map(lambda q: get(search_url(base, q, mode="exact", top=10)), captions)))
        bad, worst = [], 0.0
        for q in captions:
            s, a = got[q]
            e = ref[q]
            if s != 200 or a["shards"] != {"answered": n, "total": n, "missing": []}:
                bad.append((q, "status/shards", s, a.get("shards") if isinstance(a, dict) else a))
                continue
            if [r["id"] for r in a["results"]] != [r["id"] for r in e["results"]]:
                bad.append((q, "ids", [r["id"] for r in a["results"]], [r["id"] for r in e["results"]]))
                continue
            d = max((abs(x["score"] - y["score"]) for x, y in zip(a["results"], e["results"])), default=0.0)
            worst = max(worst, d)
            if d > 1e-5:
                bad.append((q, "score", d))
        check(not bad, f"equality, {n} shard(s): exact top-10 of {len(captions)} captions through the ingress equal one "
                       f"unsharded scan-serve (max score difference {worst:.2e}){'' if not bad else ': ' + repr(bad[:3])}")
        wrong = 0
        for q in captions[:50]:
            for r in got[q][1]["results"]:
                s, img = get(f"{base}/images/{r['id']}")
                wrong += s != 200 or img.get("id") != r["id"]
        check(wrong == 0, f"/images/{{id}} through the ingress finds every result of 50 queries ({n} shards)")
        for k in ks:
            answers = dict(zip(sub, pool.map(lambda q: get(search_url(base, q, mode="two-stage", top=5, candidates=k))[1], sub)))
            worse, ret_one, ret_sh = 0, 0.0, 0.0
            for q in sub:
                exact5 = {r["id"] for r in ref[q]["results"][:5]}
                one = len(exact5 & {r["id"] for r in ref_two[k][q]["results"]}) / 5
                sh = len(exact5 & {r["id"] for r in answers[q]["results"]}) / 5
                ret_one += one
                ret_sh += sh
                worse += sh < one
            check(worse == 0, f"two-stage retention@5, K={k}: {n} shard(s) with K per shard {ret_sh / len(sub):.3f} >= one index "
                              f"{ret_one / len(sub):.3f} (queries worse: {worse} of {len(sub)})")
    pool.shutdown()


def verify(args, index):
    r = subprocess.run([os.path.join(args.bin_dir, "scan-index"), "verify", "--index", index], capture_output=True, text=True)
    fp = re.search(r"content fingerprint: (\S+)", r.stdout)
    info = subprocess.run([os.path.join(args.bin_dir, "scan-index"), "info", "--json", "--index", index], capture_output=True, text=True)
    import json
    m = json.loads(info.stdout)
    return r.returncode == 0, (fp.group(1) if fp else None), m["image_count"], m["shard"]["set_fingerprint"]


def test_parallel_build(args, w):
    root = args.root
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
    n = 2
    t0 = time.monotonic()
    r = subprocess.run(["nice", sys.executable, "-m", "scan_ray", "build", "--address", f"127.0.0.2:{args.ray_port}", "--bin-dir", args.bin_dir,
                        "--model", w["model"], "--features", w["features"], "--captions", w["captions_file"],
                        "--shards", str(n), "--out", os.path.join(root, "parallel")], capture_output=True, text=True, env=env, timeout=900)
    check(r.returncode == 0, f"shards built by Ray tasks ({time.monotonic() - t0:.1f} s){'' if r.returncode == 0 else ': ' + r.stderr[-1500:]}")
    for i in range(n):
        serial = os.path.join(root, f"serial-{i}-of-{n}")
        if not os.path.exists(os.path.join(serial, "data.mdb")):
            subprocess.run(["nice", os.path.join(args.bin_dir, "scan-index"), "build", "--model", w["model"], "--features", w["features"],
                            "--captions", w["captions_file"], "--index", serial, "--shard", f"{i}/{n}", "--quiet"], check=True,
                           capture_output=True)
        par = verify(args, os.path.join(root, f"parallel-{i}-of-{n}"))
        ser = verify(args, serial)
        spl = verify(args, f"{w['prefix']}-{i}-of-{n}")
        check(par[0] and ser[0] and spl[0] and par[1:] == ser[1:] == spl[1:],
              f"shard {i}/{n}: parallel (Ray) == one by one == split: verify ok, (content fingerprint, images, set) = {par[1:]}, {ser[1:]}, {spl[1:]}")


def test_lost_replica(args, w):
    n = 2
    dirs = shard_dirs(w["prefix"], n)
    base = deploy(args, dirs, replicas=2, deadline_ms=1000)
    captions = w["captions"]
    pids0 = scan_serve_pids(dirs[0])
    check(len(pids0) == 2, f"2 scan-serve processes serve shard 0 (pids {pids0})")

    def classify(s, a):
        if isinstance(a, dict) and "shards" in a:
            sh = a["shards"]
            if s == 200 and sh["answered"] == sh["total"] and "results" in a:
                return "complete"
            if sh["missing"]:
                return "partial"
        return "error"

    # Phase A: one replica's scan-serve killed while 200 queries are sent.
    log, killed_at = [], None
    for i in range(200):
        if i == 40:
            os.kill(pids0[0], signal.SIGKILL)
            killed_at = time.monotonic()
        t = time.monotonic()
        try:
            s, a = get(search_url(base, captions[i % len(captions)], mode="exact", top=5), timeout=30)
        except Exception as e:  # noqa: BLE001 - a transport error is an unexplained failure
            s, a = -1, str(e)
        log.append((t, classify(s, a), s))
        time.sleep(0.03)
    kinds = {k: sum(1 for _, c, _ in log if c == k) for k in ("complete", "partial", "error")}
    check(kinds["error"] == 0, f"lost replica: 200 queries, one scan-serve of shard 0 SIGKILLed at query 40: {kinds}")
    after = [t for t, c, _ in log if t >= killed_at and c != "complete"]
    resume = (max(after) - killed_at) if after else 0.0
    check(resume <= RESUME_BOUND_S, f"lost replica: complete answers again {resume:.2f} s after the kill (bound {RESUME_BOUND_S:.0f} s)")
    t0 = time.monotonic()
    try:
        wait_until(lambda: len(scan_serve_pids(dirs[0])) == 2 and pids0[0] not in scan_serve_pids(dirs[0]), RESUME_BOUND_S, what="replica replaced")
        check(True, f"Ray replaced the replica: 2 scan-serve over shard 0 again, {time.monotonic() - killed_at:.1f} s after the kill")
    except TimeoutError as e:
        check(False, f"Ray replaced the replica: {e}")

    # Phase B: both replicas of shard 1 killed: explicitly partial answers until Ray replaces them.
    _, m0 = get(base + "/metrics")
    partial0 = int(re.search(r"^scan_ray_partial_answers_total (\d+)", m0, re.M).group(1))
    pids1 = scan_serve_pids(dirs[1])
    for p in pids1:
        os.kill(p, signal.SIGKILL)
    killed_at = time.monotonic()
    log = []
    while time.monotonic() - killed_at < RESUME_BOUND_S + 30:
        t = time.monotonic()
        try:
            s, a = get(search_url(base, captions[len(log) % len(captions)], mode="exact", top=5), timeout=30)
        except Exception as e:  # noqa: BLE001
            s, a = -1, str(e)
        c = classify(s, a)
        log.append((t, c, a.get("shards", {}).get("missing") if isinstance(a, dict) else None))
        if len(log) >= 20 and all(x[1] == "complete" for x in log[-20:]) and any(x[1] == "partial" for x in log):
            break
        time.sleep(0.1)
    kinds = {k: sum(1 for _, c, _ in log if c == k) for k in ("complete", "partial", "error")}
    wrong_missing = [m for _, c, m in log if c == "partial" and m != [1]]
    check(kinds["error"] == 0 and kinds["partial"] > 0 and not wrong_missing,
          f"shard 1 without a live replica: {len(log)} queries, {kinds}, every partial answer names missing [1]")
    last_partial = max((t for t, c, _ in log if c != "complete"), default=killed_at)
    resume = last_partial - killed_at
    check(resume <= RESUME_BOUND_S and log[-1][1] == "complete",
          f"shard 1 back: complete answers again {resume:.2f} s after both replicas were killed (bound {RESUME_BOUND_S:.0f} s)")
    _, m1 = get(base + "/metrics")
    partial1 = int(re.search(r"^scan_ray_partial_answers_total (\d+)", m1, re.M).group(1))
    check(partial1 - partial0 == kinds["partial"], f"/metrics counted {partial1 - partial0} partial answers, the client saw {kinds['partial']}")
    failures_line = [l for l in m1.splitlines() if l.startswith("scan_ray_shard_failures_total")]
    print("     " + "; ".join(failures_line), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin-dir", default=os.path.join(ROOT, ".build", "debug"))
    p.add_argument("--root", default=os.path.join(ROOT, ".build", "ray-test"))
    p.add_argument("--port", type=int, default=18650, help="Serve's HTTP port on 127.0.0.1")
    p.add_argument("--ray-port", type=int, default=6391)
    p.add_argument("--only", choices=["equality", "build", "replica"], action="append")
    args = p.parse_args()
    args.bin_dir = os.path.abspath(args.bin_dir)
    t0 = time.monotonic()
    w = build_world(args.root, args.bin_dir)
    print(f"     world: {len(w['captions'])} test captions, index {w['whole']} ({time.monotonic() - t0:.1f} s)", flush=True)
    cluster = LoopbackCluster(temp_root=f"/tmp/rsh{args.ray_port}", port=args.ray_port)
    ref = None
    try:
        t = time.monotonic()
        cluster.start(workers=1)
        print(f"     Ray: head on 127.0.0.2:{args.ray_port} + 1 worker on 127.0.0.3 ({time.monotonic() - t:.1f} s)", flush=True)
        only = args.only or ["equality", "build", "replica"]
        if "equality" in only:
            ref = ServeProcess(os.path.join(args.bin_dir, "scan-serve"), w["whole"])
            test_equality(args, w, ref.base_url)
        if "build" in only:
            test_parallel_build(args, w)
        if "replica" in only:
            test_lost_replica(args, w)
    finally:
        if ref:
            ref.stop()
        stopped = cluster.stop()
        print(f"     Ray cluster stopped ({len(stopped)} processes)", flush=True)
    print(f"ray tests: {len(failures)} failed ({time.monotonic() - t0:.0f} s)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
