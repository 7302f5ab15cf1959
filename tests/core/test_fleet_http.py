"""The update's download (KZ-43.1): a streaming HTTP/1.1 GET over a channel (firmware/fleet/http.py)
and the channels' reach() for the update server beside the OFD (net.tcp, net.manager).
"""

import asyncio

from fleet import http
from fleetkit import run
from net.manager import ChannelManager
from net.tcp import TcpChannel


class _Canned:
    # a channel whose every connection answers with the given bytes
    def __init__(self, answer):
        self.answer = answer
        self.sent = b""
        self.opened = []

    async def open(self, host, port, timeout_ms):
        self.opened.append((host, port))
        self.pos = 0
        return self, self

    async def readexactly(self, n):
        if self.pos + n > len(self.answer):
            raise EOFError
        self.pos += n
        await asyncio.sleep(0)
        return self.answer[self.pos - n:self.pos]

    def write(self, b):
        self.sent += b

    async def drain(self):
        pass

    def close(self):
        self.closed = True


def _get(answer, url="http://updates.example.kz:8470/esp32s3/0.2.0.kkm"):
    ch = _Canned(answer)

    async def go():
        r = await http.get(ch, url, 1000)
        try:
            return [await r.read(4), await r.read(r.left)], r.length
        finally:
            r.close()

    return ch, run(go())


def _error(answer, url="http://u/p"):
    try:
        _get(answer, url)
    except (OSError, ValueError) as e:
        return str(e)
    raise AssertionError("no error")


def test_kz_43_1_a_get_reads_the_body_in_the_callers_chunks():
    ch, (parts, n) = _get(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 10\r\n\r\n"
                          b"0123456789")
    assert parts == [b"0123", b"456789"] and n == 10
    assert ch.opened == [("updates.example.kz", 8470)]
    assert ch.sent.startswith(b"GET /esp32s3/0.2.0.kkm HTTP/1.1\r\nHost: updates.example.kz\r\n")
    assert http.split_url("http://h/p/q") == ("h", 80, "/p/q")


def test_kz_43_1_a_get_fails_cleanly_on_what_it_cannot_read():
    assert "404" in _error(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    assert "Content-Length" in _error(b"HTTP/1.1 200 OK\r\n\r\nbody")
    assert "chunked" in _error(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n")
    assert "HTTP head over" in _error(b"HTTP/1.1 200 OK\r\nX: " + b"y" * 3000 + b"\r\n\r\n")
    _error(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123")  # the body cut short
    assert "http://" in _error(b"", "https://u/p")


def _resolver(seen):
    def resolve(host, port):
        seen.append(host)
        return [(2, 1, 6, "", ("127.0.0.1", port))]

    return resolve


def test_kz_43_1_reach_adds_the_update_server_beside_the_ofd_hosts():
    seen = []
    ch = TcpChannel(resolver=_resolver(seen))
    m = ChannelManager([ch])
    m.configure([("ofd.kz", 7777)])
    m.reach("updates.kz", 8470)
    m.reach("updates.kz", 8470)  # known: not looked up again
    assert seen == ["ofd.kz", "updates.kz"] and set(ch.addrs) == {("ofd.kz", 7777), ("updates.kz", 8470)}
    m.configure([("ofd.kz", 7777)])  # the OFD's hosts again: the updater reaches its server before each download
    assert ("updates.kz", 8470) not in ch.addrs
