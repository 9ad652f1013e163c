"""The shards of a set built in parallel by Ray tasks, each ``scan-index build --shard i/N``."""
import subprocess
import time
from typing import List, Optional

import ray


@ray.remote(num_cpus=1, max_retries=2)
def build_shard(scan_index: str, model: str, features: str, captions: Optional[str], out: str, i: int, n: int,
                extra: List[str]) -> dict:
    """One shard; a retried task resumes the shard's build (scan-index skips the ids it holds)."""
    t0 = time.monotonic()
    args = [scan_index, "build", "--model", model, "--features", features, "--index", out, "--shard", f"{i}/{n}", "--quiet"]
    if captions:
        args += ["--captions", captions]
    r = subprocess.run(args + extra, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"shard {i}/{n}: scan-index build failed ({r.returncode}): {r.stderr.strip()}")
    return {"shard": i, "index": out, "seconds": time.monotonic() - t0, "summary": r.stdout.strip()}


def shard_path(prefix: str, i: int, n: int) -> str:
    return f"{prefix}-{i}-of-{n}"


def build_all(scan_index: str, model: str, features: str, captions: Optional[str], prefix: str, n: int,
              extra: Optional[List[str]] = None) -> List[dict]:
    refs = [build_shard.remote(scan_index, model, features, captions, shard_path(prefix, i, n), i, n, extra or [])
            for i in range(n)]
    return ray.get(refs)
