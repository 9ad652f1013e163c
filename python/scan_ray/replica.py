"""The Ray Serve deployment of one shard: each replica owns a scan-serve process over the shard."""
import asyncio
import os
from typing import Dict, Optional, Tuple

import aiohttp

from .serve_process import ServeProcess


class ShardDown(Exception):
    """This replica's scan-serve is not running (Ray's health check replaces the replica)."""


class ShardReplica:
    """Forwards HTTP requests to its own scan-serve. ``check_health`` fails as soon as scan-serve has
    died or stops answering ``/healthz``, so that Ray Serve stops routing to the replica and starts a new one."""

    def __init__(self, index: str, scan_serve: str, shard: int, serve_args: Optional[list] = None):
        self.shard = shard
        self.index = index
        self.server = ServeProcess(scan_serve, index, extra=serve_args)
        self._session: Optional[aiohttp.ClientSession] = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60),
                                                  connector=aiohttp.TCPConnector(limit=64))
        return self._session

    async def forward(self, method: str, path_qs: str, body: Optional[bytes] = None) -> Tuple[int, str, bytes]:
        """(status, content type, body) of ``method path_qs`` on this replica's scan-serve."""
        if not self.server.alive:
            raise ShardDown(f"shard {self.shard}: scan-serve (pid {self.server.pid}) exited with {self.server.process.returncode}")
        headers = {"content-type": "application/json"} if body is not None else {}
        try:
            async with self._client().request(method, self.server.base_url + path_qs, data=body, headers=headers) as r:
                return r.status, r.headers.get("content-type", "application/octet-stream"), await r.read()
        except aiohttp.ClientError as e:
            raise ShardDown(f"shard {self.shard}: scan-serve (pid {self.server.pid}) did not answer: {e}") from e

    def pid(self) -> Dict:
        """The replica's and its scan-serve's process ids (for tests that kill one)."""
        return {"replica": os.getpid(), "scan_serve": self.server.pid, "shard": self.shard, "port": self.server.port}

    async def check_health(self):
        if not self.server.alive:
            raise ShardDown(f"shard {self.shard}: scan-serve exited with {self.server.process.returncode}")
        try:
            async with self._client().get(self.server.base_url + "/healthz", timeout=aiohttp.ClientTimeout(total=5)) as r:
                if r.status != 200:
                    raise ShardDown(f"shard {self.shard}: /healthz answered {r.status}")
        except (aiohttp.ClientError, asyncio.TimeoutError) as e:
            raise ShardDown(f"shard {self.shard}: /healthz failed: {e}") from e

    def __del__(self):
        server = getattr(self, "server", None)
        if server is not None:
            server.stop()
