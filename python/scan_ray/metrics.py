"""The ingress's Prometheus text: requests by route and status, latency, partial answers, shard failures."""
import threading
from collections import defaultdict

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class IngressMetrics:
    def __init__(self, shards: int):
        self.shards = shards
        self._lock = threading.Lock()
        self.requests = defaultdict(int)          # (route, status) -> count
        self.latency = defaultdict(lambda: [0] * (len(BUCKETS) + 1))  # route -> bucket counts (+Inf last)
        self.latency_sum = defaultdict(float)
        self.partial = 0                          # answers with at least one shard missing
        self.unanswered = 0                       # requests no shard answered
        self.shard_failures = defaultdict(int)    # (shard, reason) -> count
        self.in_flight = 0

    def started(self):
        with self._lock:
            self.in_flight += 1

    def finished(self, route: str, status: int, seconds: float, missing: int):
        with self._lock:
            self.in_flight -= 1
            self.requests[(route, status)] += 1
            b = self.latency[route]
            for i, le in enumerate(BUCKETS):
                if seconds <= le:
                    b[i] += 1
            b[-1] += 1
            self.latency_sum[route] += seconds
            if 0 < missing < self.shards:
                self.partial += 1
            elif missing == self.shards:
                self.unanswered += 1

    def shard_failed(self, shard: int, reason: str):
        with self._lock:
            self.shard_failures[(shard, reason)] += 1

    def text(self) -> str:
        with self._lock:
            out = ["# HELP scan_ray_requests_total Requests answered by the ingress, by route and status.",
                   "# TYPE scan_ray_requests_total counter"]
            for (route, status), n in sorted(self.requests.items()):
                out.append(f'scan_ray_requests_total{{route="{route}",status="{status}"}} {n}')
            out += ["# HELP scan_ray_request_duration_seconds Time from request to answer at the ingress.",
                    "# TYPE scan_ray_request_duration_seconds histogram"]
            for route, b in sorted(self.latency.items()):
                for i, le in enumerate(BUCKETS):
                    out.append(f'scan_ray_request_duration_seconds_bucket{{route="{route}",le="{le}"}} {b[i]}')
                out.append(f'scan_ray_request_duration_seconds_bucket{{route="{route}",le="+Inf"}} {b[-1]}')
                out.append(f'scan_ray_request_duration_seconds_sum{{route="{route}"}} {self.latency_sum[route]:.6f}')
                out.append(f'scan_ray_request_duration_seconds_count{{route="{route}"}} {b[-1]}')
            out += ["# HELP scan_ray_partial_answers_total Answers that left out at least one shard (\"shards\".\"missing\" not empty).",
                    "# TYPE scan_ray_partial_answers_total counter", f"scan_ray_partial_answers_total {self.partial}",
                    "# HELP scan_ray_unanswered_total Requests that no shard answered (503).",
                    "# TYPE scan_ray_unanswered_total counter", f"scan_ray_unanswered_total {self.unanswered}",
                    "# HELP scan_ray_shard_failures_total Shard calls that failed or missed the deadline, by shard and reason.",
                    "# TYPE scan_ray_shard_failures_total counter"]
            for (shard, reason), n in sorted(self.shard_failures.items()):
                out.append(f'scan_ray_shard_failures_total{{shard="{shard}",reason="{reason}"}} {n}')
            out += ["# HELP scan_ray_in_flight Requests being answered.", "# TYPE scan_ray_in_flight gauge",
                    f"scan_ray_in_flight {self.in_flight}",
                    "# HELP scan_ray_shards Shards in the set.", "# TYPE scan_ray_shards gauge", f"scan_ray_shards {self.shards}"]
            return "\n".join(out) + "\n"
