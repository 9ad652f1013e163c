"""A few HTTP helpers over loopback (stdlib only)."""
import json
import time
import urllib.error
import urllib.parse
import urllib.request


def _fetch(req, timeout: float):
    """(status, parsed JSON or text) of a request; an HTTP error status is an answer, not an exception."""
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body, status = r.read(), r.status
    except urllib.error.HTTPError as e:
        body, status = e.read(), e.code
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body.decode("utf-8", "replace")


def get(url: str, timeout: float = 30.0):
    """(status, parsed JSON or text)."""
    return _fetch(url, timeout)


def post(url: str, payload: dict, timeout: float = 30.0):
    """(status, parsed JSON or text) of a JSON POST."""
    return _fetch(urllib.request.Request(url, data=json.dumps(payload).encode(), headers={"content-type": "application/json"}), timeout)


def search_url(base: str, q: str, **params) -> str:
    return base.rstrip("/") + "/search?" + urllib.parse.urlencode(dict(q=q, **params))


def wait_until(predicate, timeout: float, pause: float = 0.5, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception as e:  # noqa: BLE001 - keep polling until the deadline
            last = e
        time.sleep(pause)
    raise TimeoutError(f"{what} not reached within {timeout:.0f} s (last error: {last})")
