"""A small Ray cluster on this machine's loopback for the tests and benchmarks: a head node and
optional worker nodes, each `ray start` with its own --temp-dir, stopped by process id.

Loopback: Ray 2.x rewrites the addresses `127.0.0.1` and `localhost` given to `ray start`
(`--node-ip-address` and `--address`) into the machine's routable address
(ray._private.services.resolve_ip_for_localhost), so a cluster started with 127.0.0.1 talks over
the network interface. The head therefore runs on 127.0.0.2 and the worker on 127.0.0.3: loopback
addresses (127.0.0.0/8 is the loopback net) that Ray keeps as given. Ray's own listeners that take
no address option (GCS port, raylet ports) listen on all interfaces, so the cluster requires Ray's
token authentication with a token made here for this cluster. Serve's HTTP proxy and every
scan-serve bind to 127.0.0.1. Stopping kills exactly the processes of this cluster (found by their
temp dir and address, then their descendants), not every Ray process of the machine as `ray stop` would.
"""
import os
import secrets
import signal
import subprocess
import time
from typing import List

RAY = os.environ.get("RAY_BIN", "ray")


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def _ppid(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


class LoopbackCluster:
    def __init__(self, temp_root: str = "/tmp/rsh", port: int = 6391, head_cpus: int = 1, worker_cpus: int = 1,
                 object_store_bytes: int = 150_000_000):
        self.temp_root = temp_root
        self.port = port
        self.head_cpus = head_cpus
        self.worker_cpus = worker_cpus
        self.object_store_bytes = object_store_bytes
        self.head_ip = "127.0.0.2"
        self.address = f"{self.head_ip}:{port}"
        self.workers = 0
        # Token authentication for every process of this cluster (and drivers started from here).
        os.environ["RAY_AUTH_MODE"] = "token"
        os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_hex(32))

    def _start(self, args: List[str], env_extra: dict, label: str):
        # Every node imports scan_ray (in a real cluster: `pip install ./python` on each node).
        python_dir = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "python")
        path = os.pathsep.join(p for p in (python_dir, os.environ.get("PYTHONPATH", "")) if p)
        env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0", PYTHONPATH=path, **env_extra)
        r = subprocess.run(["nice", RAY, "start"] + args, env=env, capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            raise RuntimeError(f"ray start ({label}) failed: {r.stdout[-2000:]} {r.stderr[-2000:]}")

    def start(self, workers: int = 0):
        self._start(["--head", "--node-ip-address", self.head_ip, "--port", str(self.port), "--num-cpus", str(self.head_cpus),
                     "--include-dashboard=false", "--dashboard-host", "127.0.0.1", "--ray-client-server-port", str(self.port + 1),
                     "--temp-dir", self.temp_root + "-head", "--object-store-memory", str(self.object_store_bytes),
                     "--disable-usage-stats"], {}, "head")
        for _ in range(workers):
            self.add_worker()
        return self

    def add_worker(self):
        self.workers += 1
        self._start(["--address", self.address, "--node-ip-address", f"127.0.0.{2 + self.workers}", "--num-cpus", str(self.worker_cpus),
                     "--object-store-memory", str(self.object_store_bytes), "--disable-usage-stats"], {}, f"worker {self.workers}")

    def pids(self) -> List[int]:
        """This cluster's processes: those naming its temp dirs or its port, and their descendants."""
        all_pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
        me = os.getpid()
        marks = [self.temp_root + "-", f"{self.head_ip}:{self.port}"] + [f"127.0.0.{2 + w}" for w in range(1, self.workers + 1)]
        roots = {p for p in all_pids if p != me and any(m in _cmdline(p) for m in marks) and "ray" in _cmdline(p)}
        children = {}
        for p in all_pids:
            children.setdefault(_ppid(p), []).append(p)
        out, todo = set(), list(roots)
        while todo:
            p = todo.pop()
            if p in out or p == me:
                continue
            out.add(p)
            todo += children.get(p, [])
        return sorted(out)

    def stop(self, timeout: float = 15.0):
        pids = self.pids()
        for p in pids:
            try:
                os.kill(p, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(os.path.exists(f"/proc/{p}") and _cmdline(p) for p in pids):
            time.sleep(0.2)
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return pids


if __name__ == "__main__":
    import sys
    c = LoopbackCluster()
    if sys.argv[1:] == ["stop"]:
        print("stopped", c.stop())
    elif sys.argv[1:] == ["pids"]:
        print(c.pids())
