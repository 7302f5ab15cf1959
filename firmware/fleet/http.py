# A streaming HTTP/1.1 GET over a channel (net: open() gives asyncio
# streams, read with readexactly only), for the update's download: the
# body is read in the caller's chunks, never whole.
#
#   r = await get(channel, url, timeout_ms)   OSError when no answer or not 200
#   r.length          the body's size (Content-Length)
#   await r.read(n)   exactly n more bytes of the body (OSError past its end)
#   r.close()
#
# http:// only: the package carries its own signature, so the transport
# needs no trust (docs/updates.md).

import errno

from aio import Timeout, wait_for_ms
from compat import const

MAX_HEAD = const(2048)


def split_url(url):
    # "http://host[:port]/path" -> (host, port, path); ValueError otherwise
    if not url.startswith("http://"):
        raise ValueError("not an http:// URL: " + url)
    rest = url[7:]
    hostport, slash, path = rest.partition("/")
    host, colon, port = hostport.partition(":")
    if not host:
        raise ValueError("no host: " + url)
    return host, int(port) if colon else 80, slash + path


class Response:
    def __init__(self, r, w, length, timeout_ms):
        self.r = r
        self.w = w
        self.length = length
        self.left = length
        self.timeout_ms = timeout_ms

    async def read(self, n):
        if n > self.left:
            raise OSError(errno.EIO)
        try:
            b = await wait_for_ms(self.r.readexactly(n), self.timeout_ms)
        except Timeout:
            raise OSError(errno.ETIMEDOUT)
        except EOFError:
            raise OSError(errno.ECONNRESET)
        self.left -= n
        return b

    def close(self):
        self.w.close()


async def _head(r, timeout_ms):
    # the status line and headers, a byte at a time (readexactly is all a channel has)
    buf = b""
    while not buf.endswith(b"\r\n\r\n"):
        if len(buf) >= MAX_HEAD:
            raise OSError("HTTP head over %d bytes" % MAX_HEAD)
        try:
            buf += await wait_for_ms(r.readexactly(1), timeout_ms)
        except Timeout:
            raise OSError(errno.ETIMEDOUT)
        except EOFError:
            raise OSError(errno.ECONNRESET)
    return buf.decode()


async def get(channel, url, timeout_ms):
    host, port, path = split_url(url)
    r, w = await channel.open(host, port, timeout_ms)
    try:
        w.write(("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (path, host)).encode())
        await w.drain()
        lines = (await _head(r, timeout_ms)).split("\r\n")
        status = lines[0].split(" ")
        if len(status) < 2 or status[1] != "200":
            raise OSError("HTTP " + " ".join(status[1:]))
        length = None
        for line in lines[1:]:
            k, _, v = line.partition(":")
            k = k.strip().lower()
            if k == "content-length":
                length = int(v.strip())
            elif k == "transfer-encoding" and v.strip().lower() != "identity":
                raise OSError("HTTP transfer encoding " + v.strip())
        if length is None:
            raise OSError("HTTP answer without Content-Length")
        return Response(r, w, length, timeout_ms)
    except BaseException:
        w.close()
        raise
