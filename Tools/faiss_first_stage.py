#!/usr/bin/env python3
"""FAISS beside scan-bench's compact first stage, on the same vectors and queries.

Reads VECTORS.npy (n x d float32, the prefilter vectors scan-bench stored in its index) and
QUERIES.npy (q x d), takes the exact inner-product top K (IndexFlatIP) as the truth, and for each
FAISS index that holds about the same memory per image as ours (d / 2 bytes) prints resident bytes
per image, recall of the exact top K and latency p50/p95/p99 in ms, one query at a time on
--threads threads: directly, and with the same shortlist rescoring ours does (the best
S = max(2K, K + 256) re-scored with the float vectors read from a file, as ours reads them from LMDB).

Usage: python3 Tools/faiss_first_stage.py VECTORS.npy QUERIES.npy --ks 100,1000 [--threads 2]
Installs faiss-cpu with pip when it is missing.
"""
import argparse
import subprocess
import sys
import time

try:
    import faiss
except ImportError:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "faiss-cpu"])
    import faiss
import numpy as np


def pct(xs, q):
    return float(np.percentile(np.array(xs), q))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vectors")
    ap.add_argument("queries")
    ap.add_argument("--ks", default="100,1000")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--train", type=int, default=65536, help="training sample (first rows)")
    args = ap.parse_args()
    ks = [int(k) for k in args.ks.split(",")]
    faiss.omp_set_num_threads(args.threads)
    x = np.load(args.vectors, mmap_mode="r")
    q = np.ascontiguousarray(np.load(args.queries).astype(np.float32))
    n, d = x.shape
    xs = np.ascontiguousarray(x, dtype=np.float32)
    # The float vectors for rescoring: float16 in a file, read per query (ours: float16 records in LMDB).
    f16 = xs.astype(np.float16)
    flat = faiss.IndexFlatIP(d)
    flat.add(xs)
    kmax = max(ks)
    _, truth = flat.search(q, kmax)
    del flat
    print(f"faiss {faiss.__version__}: {n} vectors x {d}, {len(q)} queries, {args.threads} threads; truth = exact inner-product top K")
    print("index | bytes/img | train s | add s | K | shortlist | recall of exact top K | p50 ms | p95 ms | p99 ms")
    factories = [(f"SQ4", "SQ4"), (f"PQ{d // 2}x8", f"PQ{d // 2}"), (f"PQ{d}x4fs", f"PQ{d}x4fs")]
    for label, spec in factories:
        index = faiss.index_factory(d, spec, faiss.METRIC_INNER_PRODUCT)
        t = time.perf_counter()
        index.train(xs[: min(n, args.train)])
        train_s = time.perf_counter() - t
        t = time.perf_counter()
        index.add(xs)
        add_s = time.perf_counter() - t
        bpi = index.sa_code_size()
        for k in ks:
            for rescore in (False, True):
                s = max(2 * k, k + 256) if rescore else k
                s = min(s, n)
                times, rec = [], []
                for i in range(len(q)):
                    t = time.perf_counter()
                    _, ids = index.search(q[i : i + 1], s)
                    ids = ids[0]
                    if rescore:
                        ids = ids[ids >= 0]
                        sc = f16[ids].astype(np.float32) @ q[i]
                        top = ids[np.argpartition(-sc, min(k, len(ids) - 1))[:k]]
                    else:
                        top = ids[:k]
                    times.append(1000 * (time.perf_counter() - t))
                    rec.append(len(np.intersect1d(top, truth[i, :k])) / k)
                print(f"{label} | {bpi} | {train_s:.1f} | {add_s:.1f} | {k} | {s if rescore else '-'} | {100 * np.mean(rec):.2f}% | "
                      f"{pct(times, 50):.2f} | {pct(times, 95):.2f} | {pct(times, 99):.2f}")
        del index
    sys.stdout.flush()


if __name__ == "__main__":
    main()
