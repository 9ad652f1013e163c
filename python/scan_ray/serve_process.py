"""One scan-serve child process on a loopback port that the operating system picks."""
import ctypes
import os
import re
import signal
import subprocess
import tempfile
import time
from typing import List, Optional

_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    # Linux: the child gets SIGTERM when the process that started it dies (a replica Ray kills
    # does not leave its scan-serve behind).
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except OSError:
        pass


class ServeProcess:
    """``scan-serve --index DIR --host 127.0.0.1 --port 0``; its port is read from the line it prints."""

    def __init__(self, scan_serve: str, index: str, host: str = "127.0.0.1", extra: Optional[List[str]] = None,
                 start_timeout: float = 120.0):
        self.index = index
        fd, self.log_path = tempfile.mkstemp(prefix="scan-serve-", suffix=".log")
        self._log = os.fdopen(fd, "wb")
        args = [scan_serve, "--index", index, "--host", host, "--port", "0"] + (extra or [])
        self.process = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        preexec_fn=_die_with_parent)
        self.host = host
        try:
            self.port = self._wait_for_port(start_timeout)
        finally:
            # The address is read: the file goes (scan-serve keeps its descriptor), so that a replica
            # that Ray kills leaves nothing behind.
            try:
                os.unlink(self.log_path)
            except OSError:
                pass

    def _wait_for_port(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
            m = re.search(r"at http://[^:/]+:(\d+)/", text)
            if m:
                return int(m.group(1))
            if self.process.poll() is not None:
                raise RuntimeError(f"scan-serve over {self.index} exited with status {self.process.returncode}: {text[-2000:]}")
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"scan-serve over {self.index} printed no address within {timeout:.0f} s")

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log.close()
        try:
            os.unlink(self.log_path)
        except OSError:
            pass
