"""The ingress deployment: scan-serve's HTTP API over a shard set.

Every request goes to every shard (``/images/{id}`` too: the first shard that has the id answers).
A shard gets a deadline; within it a failed call is retried (Ray may route the retry to another
replica of the shard). A shard that does not answer in time is left out and named in
``"shards": {"answered", "total", "missing"}``; ``/metrics`` counts such partial answers. A 4xx of
a shard (bad input) is the answer: every shard validates the same way.
"""
import asyncio
import json
import time
from typing import Dict, List, Optional, Tuple

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import merge
from .metrics import IngressMetrics

MAX_BODY = 64 * 1024


class Ingress:
    def __init__(self, shards: List, deadline_s: float = 2.0, retry_pause_s: float = 0.02):
        self.shards = shards          # DeploymentHandles, shard 0 first
        self.n = len(shards)
        self.deadline_s = deadline_s
        self.retry_pause_s = retry_pause_s
        self.metrics = IngressMetrics(self.n)

    async def _call(self, shard: int, method: str, path_qs: str, body: Optional[bytes], deadline: float):
        """(status, type, body) from ``shard`` or None when it found no live replica before ``deadline``."""
        last = "error"
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.metrics.shard_failed(shard, last if last != "error" else "deadline")
                return None
            try:
                return await asyncio.wait_for(self.shards[shard].forward.remote(method, path_qs, body), timeout=left)
            except asyncio.TimeoutError:
                self.metrics.shard_failed(shard, "deadline")
                return None
            except Exception:  # a dead replica or scan-serve: try again (another replica) until the deadline
                self.metrics.shard_failed(shard, "replica_error")
                last = "replica_error"
                await asyncio.sleep(min(self.retry_pause_s, max(0.0, deadline - time.monotonic())))

    async def _fan_out(self, method: str, path_qs: str, body: Optional[bytes] = None) -> Dict[int, Tuple[int, str, bytes]]:
        deadline = time.monotonic() + self.deadline_s
        got = await asyncio.gather(*[self._call(i, method, path_qs, body, deadline) for i in range(self.n)])
        return {i: g for i, g in enumerate(got) if g is not None}

    @staticmethod
    def _client_error(answers: Dict[int, Tuple[int, str, bytes]]) -> Optional[Response]:
        for i in sorted(answers):
            status, ctype, body = answers[i]
            if 400 <= status < 500:
                return Response(body, status_code=status, media_type=ctype.split(";")[0])
        return None

    @staticmethod
    def _ok_json(answers) -> Dict[int, Dict]:
        return {i: json.loads(b) for i, (s, _, b) in answers.items() if s == 200}

    async def __call__(self, request: Request) -> Response:
        t0 = time.monotonic()
        path = request.url.path
        route = self._route(path, request.method)
        self.metrics.started()
        status, missing = 500, 0
        try:
            response, missing = await self._answer(request, path, route)
            status = response.status_code
            return response
        finally:
            self.metrics.finished(route, status, time.monotonic() - t0, missing)

    @staticmethod
    def _route(path: str, method: str) -> str:
        if path.startswith("/images/"):
            return "/images/{id}"
        if path in ("/search", "/healthz", "/info", "/metrics", "/openapi.json", "/"):
            return ("POST " if method == "POST" else "") + path
        return "other"

    async def _answer(self, request: Request, path: str, route: str) -> Tuple[Response, int]:
        qs = ("?" + request.url.query) if request.url.query else ""
        if path == "/metrics":
            return Response(self.metrics.text(), media_type="text/plain; version=0.0.4"), 0
        if path == "/search" and request.method in ("GET", "POST"):
            body = None
            if request.method == "POST":
                body = await request.body()
                if len(body) > MAX_BODY:
                    return JSONResponse({"error": {"status": 413, "parameter": "body",
                                                   "message": f"body over {MAX_BODY} bytes"}}, status_code=413), 0
            t = time.monotonic()
            answers = await self._fan_out(request.method, "/search" + qs, body)
            bad = self._client_error(answers)
            if bad is not None:
                return bad, 0
            ok = self._ok_json(answers)
            ms = (time.monotonic() - t) * 1000
            merged = merge.merge_batch(ok, self.n, ms) if body is not None else merge.merge_search(ok, self.n, ms)
            missing = self.n - len(ok)
            return JSONResponse(merged, status_code=503 if not ok else 200), missing
        if path == "/healthz":
            answers = await self._fan_out("GET", "/healthz")
            ok = [i for i, a in answers.items() if a[0] == 200]
            missing = [i for i in range(self.n) if i not in ok]
            state = "ok" if not missing else ("partial" if ok else "down")
            return JSONResponse({"status": state, "shards": merge.shards_field(self.n, missing)},
                                status_code=200 if ok else 503), len(missing)
        if path == "/info":
            ok = self._ok_json(await self._fan_out("GET", "/info"))
            return JSONResponse(merge.merge_info(ok, self.n), status_code=200 if ok else 503), self.n - len(ok)
        if path.startswith("/images/"):
            answers = await self._fan_out("GET", path + qs)
            for i in sorted(answers):
                if answers[i][0] == 200:
                    s, ctype, b = answers[i]
                    return Response(b, status_code=200, media_type=ctype.split(";")[0]), self.n - len(answers)
            if len(answers) < self.n:
                missing = [i for i in range(self.n) if i not in answers]
                return JSONResponse({"error": {"status": 503, "parameter": "id", "message": "not found in the shards that answered"},
                                     "shards": merge.shards_field(self.n, missing)}, status_code=503), len(missing)
            s, ctype, b = answers[min(answers)]
            return Response(b, status_code=s, media_type=ctype.split(";")[0]), 0
        # The page, /openapi.json and anything else: every shard serves the same bytes; ask them in turn.
        body = await request.body() if request.method == "POST" else None
        deadline = time.monotonic() + self.deadline_s
        for i in range(self.n):
            got = await self._call(i, request.method, path + qs, body, deadline)
            if got is not None:
                s, ctype, b = got
                return Response(b, status_code=s, media_type=ctype.split(";")[0]), 0
        return JSONResponse({"error": {"status": 503, "parameter": None, "message": "no shard answered"},
                             "shards": merge.shards_field(self.n, list(range(self.n)))}, status_code=503), self.n
