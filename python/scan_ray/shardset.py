"""A shard set on disk: the shard indexes' manifests, checked to form one set."""
import glob
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from typing import List, Optional


class ShardSetError(Exception):
    """The directories given are not one complete shard set (names the directory and the field)."""


def find_tool(name: str, bin_dir: Optional[str] = None) -> str:
    """``bin_dir/name``, else ``name`` on PATH, else the package's .build/release or .build/debug."""
    candidates = []
    if bin_dir:
        candidates.append(os.path.join(bin_dir, name))
    on_path = shutil.which(name)
    if on_path:
        candidates.append(on_path)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    candidates += [os.path.join(root, ".build", c, name) for c in ("release", "debug")]
    for c in candidates:
        if os.path.isfile(c) and os.access(c, os.X_OK):
            return os.path.abspath(c)
    raise ShardSetError(f"{name}: not found (looked in {', '.join(candidates)}); build it with `swift build -c release --product {name}` or pass --bin-dir")


@dataclass
class Shard:
    path: str
    index: int
    count: int
    set_fingerprint: str
    model_fingerprint: str
    image_count: int
    manifest: dict


def read_manifest(path: str, scan_index: str) -> dict:
    r = subprocess.run([scan_index, "info", "--json", "--index", path], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise ShardSetError(f"{path}: scan-index info failed: {r.stderr.strip()}")
    try:
        return json.loads(r.stdout)
    except json.JSONDecodeError as e:
        raise ShardSetError(f"{path}: scan-index info --json printed no JSON: {e}")


def shard_dirs_for_prefix(prefix: str) -> List[str]:
    """The directories PREFIX-i-of-N (one N; an ambiguous prefix is an error)."""
    found = {}
    for d in glob.glob(glob.escape(prefix) + "-*-of-*"):
        m = re.fullmatch(re.escape(prefix) + r"-(\d+)-of-(\d+)", d)
        if m and os.path.isdir(d):
            found.setdefault(int(m.group(2)), []).append(d)
    if not found:
        raise ShardSetError(f"{prefix}: no shard directories {prefix}-i-of-N (make them with `scan-index split` or `build --shard`)")
    if len(found) > 1:
        raise ShardSetError(f"{prefix}: shard sets of several sizes ({sorted(found)}): give the directories with --shards")
    return sorted(next(iter(found.values())), key=lambda d: int(re.search(r"-(\d+)-of-\d+$", d).group(1)))


def load_shard_set(paths: List[str], scan_index: str) -> List[Shard]:
    """Reads every shard's manifest and checks that they are shards 0..N-1 of one set, all complete,
    with one model, one prefilter and, for product-quantised shards, one codebook (one set
    fingerprint: scan-index puts the codebook's into it). Returns them ordered by shard number."""
    shards = []
    for p in paths:
        m = read_manifest(p, scan_index)
        s = m.get("shard")
        if not s:
            raise ShardSetError(f"{p}: manifest has no 'shard': a whole index (serve it with scan-serve, or split it with scan-index split)")
        if m.get("state") != "complete":
            raise ShardSetError(f"{p}: state is '{m.get('state')}', expected 'complete' (finish the build)")
        shards.append(Shard(os.path.abspath(p), int(s["index"]), int(s["count"]), s["set_fingerprint"], m["model_fingerprint"],
                            int(m["image_count"]), m))
    counts = {s.count for s in shards}
    sets = {s.set_fingerprint for s in shards}
    models = {(s.model_fingerprint, s.manifest.get("prefilter_fingerprint")) for s in shards}
    if len(sets) != 1 or len(models) != 1 or len(counts) != 1:
        raise ShardSetError("shard_set: the shards belong to different sets: " +
                            ", ".join(f"{s.path}: shard {s.index}/{s.count} set {s.set_fingerprint} model {s.model_fingerprint}"
                                      + (f" codebook {s.manifest['codebook_fingerprint']}" if s.manifest.get("codebook_fingerprint") else "")
                                      for s in shards))
    n = counts.pop()
    numbers = sorted(s.index for s in shards)
    if numbers != list(range(n)):
        raise ShardSetError(f"shard_set: expected shards 0..{n - 1} of set {sets.pop()}, found {numbers}")
    return sorted(shards, key=lambda s: s.index)
