"""Fault injection: per register or global, set from the HTTP admin API or the CLI.

Kinds and when they act:
- ``refuse``: the connection is reset without an answer (global: right after
  accept; per register: right after its header arrives). Nothing is stored.
- ``down``: the server is unreachable for ``seconds`` (``duration`` alone
  means the same; global: the listening socket is closed, so connects are
  refused, then it comes back, or at once when the faults are cleared; per
  register: like ``refuse`` until the time is over).
- ``result``: answer result ``code`` (default 254) without processing the
  request; any code of the result table can be produced this way.
- ``delay``: the request is processed and stored, the answer leaves after
  ``seconds``.
- ``close_after``: the request is processed and stored, only the first
  ``bytes`` bytes of the answer are sent, then the connection closes.
- ``garbage``: the request is processed and stored, the answer is replaced by
  ``bytes`` random bytes that are no protocol message.
- ``wrong_reqnum``: the request is processed and stored, the answer header
  carries REQNUM + 1.

The answer-side faults (delay, close_after, garbage, wrong_reqnum) model an
answer lost after the server stored the document: the device's resend with
the same TOKEN and REQNUM gets the stored answer (duplicate detection).
Each fault applies ``count`` times (default: until removed) and, when
``duration`` is given, only for that many seconds.
"""

import itertools
import time

KINDS = ("refuse", "down", "result", "delay", "close_after", "garbage", "wrong_reqnum")
RESULT_CODES = tuple(range(0, 19)) + (254, 255)
_ANSWER_KINDS = ("delay", "close_after", "garbage", "wrong_reqnum")


class FaultError(ValueError):
    pass


class Fault:
    def __init__(self, fid, kind, kkm_id=None, seconds=0.0, nbytes=0, code=254, count=None, duration=None):
        self.id = fid
        self.kind = kind
        self.kkm_id = kkm_id
        self.seconds = seconds
        self.bytes = nbytes
        self.code = code
        self.count = count
        self.until = None if duration is None else time.monotonic() + duration
        self.hits = 0

    def alive(self):
        if self.count is not None and self.count <= 0:
            return False
        return self.until is None or time.monotonic() < self.until

    def matches(self, kkm_id):
        return self.kkm_id is None or self.kkm_id == kkm_id

    def as_dict(self):
        d = {"id": self.id, "kind": self.kind, "kkm_id": self.kkm_id, "count": self.count, "hits": self.hits}
        if self.kind in ("delay", "down"):
            d["seconds"] = self.seconds
        if self.kind in ("close_after", "garbage"):
            d["bytes"] = self.bytes
        if self.kind == "result":
            d["code"] = self.code
        if self.until is not None:
            d["remaining_s"] = round(max(0.0, self.until - time.monotonic()), 3)
        return d


def _num(spec, key, typ, default, lo=None, hi=None):
    v = spec.get(key, default)
    if v is None:
        return None
    try:
        v = typ(v)
    except (TypeError, ValueError):
        raise FaultError("%s must be a number" % key)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise FaultError("%s out of range" % key)
    return v


class Faults:
    def __init__(self):
        self._faults = []
        self._ids = itertools.count(1)

    def add(self, spec):
        """Validate a JSON-like dict and add the fault; returns it."""
        kind = spec.get("kind")
        if kind not in KINDS:
            raise FaultError("kind must be one of %s" % ", ".join(KINDS))
        kkm_id = _num(spec, "kkm_id", int, None, 1, 0xFFFFFFFF)
        seconds = _num(spec, "seconds", float, 1.0 if kind in ("delay", "down") else 0.0, 0, 3600)
        nbytes = _num(spec, "bytes", int, 64 if kind == "garbage" else 0, 0, 1 << 20)
        code = _num(spec, "code", int, 254, 0, 255)
        if kind == "result" and code not in RESULT_CODES:
            raise FaultError("code must be one of the protocol's result codes")
        count = _num(spec, "count", int, None, 1, 1 << 30)
        duration = _num(spec, "duration", float, None, 0, 86400 * 7)
        if kind == "down":
            # an outage lasts `seconds`; `duration` given alone means the same
            if "seconds" not in spec and duration is not None:
                seconds = duration
            elif duration is None:
                duration = seconds
        f = Fault(next(self._ids), kind, kkm_id, seconds, nbytes, code, count, duration)
        self._faults.append(f)
        return f

    def remove(self, fid):
        n = len(self._faults)
        self._faults = [f for f in self._faults if f.id != fid]
        return len(self._faults) != n

    def clear(self):
        self._faults = []

    def list(self):
        self._faults = [f for f in self._faults if f.alive()]
        return [f.as_dict() for f in self._faults]

    def _take(self, pred, first=True):
        out = []
        for f in self._faults:
            if f.alive() and pred(f):
                if f.count is not None:
                    f.count -= 1
                f.hits += 1
                out.append(f)
                if first:
                    break
        self._faults = [f for f in self._faults if f.alive()]
        return out

    def on_accept(self):
        """A global refusal for a new connection, or None."""
        got = self._take(lambda f: f.kind == "refuse" and f.kkm_id is None)
        return got[0] if got else None

    def on_request(self, kkm_id):
        """A per-register refusal/outage or a forced result, or None."""
        got = self._take(lambda f: f.kind in ("refuse", "down") and f.kkm_id is not None and f.kkm_id == kkm_id)
        if got:
            return got[0]
        got = self._take(lambda f: f.kind == "result" and f.matches(kkm_id))
        return got[0] if got else None

    def on_answer(self, kkm_id):
        """Every answer-side fault for this register (they combine)."""
        return self._take(lambda f: f.kind in _ANSWER_KINDS and f.matches(kkm_id), first=False)
