"""Helpers for tests and tools: a simulator on free loopback ports with one
registered register, and a tiny device-side session (token + request number)."""

import json
import os
import tempfile
import urllib.request

from tools.ofdsim import client
from tools.ofdsim.server import ServerThread

RNM = "010100012345"
BIN = "123456789012"


def register_sample(store, kkm_id=203539, token=1000, rnm=RNM, serial=None, title="ЖШС «Алма-Сауда»",
                    bin=BIN, address="Алматы қ., Абай даңғылы, 10"):
    return store.register(kkm_id, rnm, serial or "SN%06d" % kkm_id, title, bin, address, token,
                          address_kz=address, pos_title="«Алма» дүкені / Магазин «Алма»")


def at(h, m=0, s=0, day=2):
    """A local date and time on the tests' sample day (2026-03-<day>)."""
    return (2026, 3, day, h, m, s)


def get_text(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read().decode("utf-8")


def get_json(url):
    return json.loads(get_text(url))


def post_json(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode("utf-8"), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read().decode("utf-8"))


class Session:
    """What a device keeps: id, current token, last request number."""

    def __init__(self, host, port, kkm_id, token, reqnum=0):
        self.host, self.port = host, port
        self.kkm_id, self.token, self.reqnum = kkm_id, token, reqnum

    def send(self, request, timeout=10.0, reqnum=None, token=None):
        """Send with the next REQNUM (or the given one); adopt the answer's token."""
        if reqnum is None:
            self.reqnum = (self.reqnum + 1) & 0xFFFF
            reqnum = self.reqnum
        head, resp = client.exchange(self.host, self.port, self.kkm_id, self.token if token is None else token,
                                     reqnum, request, timeout)
        self.token = head.token
        return head, resp

    def frame(self, request, reqnum=None):
        from tools.ofdsim.header import frame
        return frame(self.kkm_id, self.token, self.reqnum if reqnum is None else reqnum,
                     request.SerializeToString())


class Sim:
    """`with Sim() as sim:` a running simulator with register 203539 (token 1000)."""

    def __init__(self, db_path=None, kkm_id=203539, token=1000, **options):
        self._tmp = None
        if db_path is None:
            self._tmp = tempfile.TemporaryDirectory()
            db_path = os.path.join(self._tmp.name, "ofd.sqlite")
        self.db_path = db_path
        self.kkm_id = kkm_id
        self.token = token
        self.thread = ServerThread(db_path, **options)

    def __enter__(self):
        self.thread.start()
        self.call(register_sample, self.server.store, self.kkm_id, self.token)
        return self

    def __exit__(self, *exc):
        self.thread.stop()
        if self._tmp is not None:
            self._tmp.cleanup()

    @property
    def server(self):
        return self.thread.server

    @property
    def port(self):
        return self.thread.port

    @property
    def http(self):
        return "http://127.0.0.1:%d" % self.thread.http_port

    def call(self, fn, *args):
        return self.thread.call(fn, *args)

    def store(self, method, *args):
        """Run a Store method on the server thread."""
        return self.call(lambda: getattr(self.server.store, method)(*args))

    def session(self, kkm_id=None, token=None):
        return Session("127.0.0.1", self.port, kkm_id or self.kkm_id, self.token if token is None else token)
