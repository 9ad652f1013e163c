"""A few HTTP helpers over loopback (stdlib only)."""
import json
import time
import urllib.error
import urllib.parse
import urllib.request


def get(url: str, timeout: float = 30.0):
    """(status, parsed JSON or text)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            body = r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        body, status = e.read(), e.code
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body.decode("utf-8", "replace")


def post(url: str, payload: dict, timeout: float = 30.0):
    req = urllib.request.Request(url, data=json.dumps(payload).encode(), headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body, status = r.read(), r.status
    except urllib.error.HTTPError as e:
        body, status = e.read(), e.code
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body.decode("utf-8", "replace")


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
