# Signed update packages for the tests: one small LMS key (H5: 32 one-time
# keys) and packages of a few modules built and signed with tools/fleet_sign.py.
import asyncio
import binascii
import os

from tools import fleet_sign as FS

_KEY = []
BOARD = "host"
RUNNING = "0.1.0"


def key():
    # the service centre's test key (made once: its tree takes 32 x 67 chains)
    if not _KEY:
        _KEY.append(FS.Key(5, 3, b"kkm-test-key-id!", b"\x5a" * 32))
        _KEY.append([0])  # the next one-time key
    return _KEY[0]


def public():
    return key().public()


def signature(msg):
    k = key()
    q = _KEY[1]
    q[0] += 1
    return k.sign(q[0] - 1, msg)


FILES = [("app.mpy", b"M\x06app two" * 40), ("kkm/money.mpy", b"M\x06money two"),
         ("fleet/updater.mpy", b"M\x06" + bytes(range(256)) * 5)]


def package(version="0.2.0", minimum="0.1.0", board=BOARD, files=None, signed=True, body=None):
    files = FILES if files is None else files
    b = body if body is not None else FS.body(files, board, version, minimum)
    return FS.pack(b, signature(FS.message(b)) if signed else b"", files)


def reader(data, chunks=None):
    # read(n) over bytes, as the HTTP body gives it; chunks: sizes asked, recorded
    pos = [0]

    async def read(n):
        if chunks is not None:
            chunks.append(n)
        if pos[0] + n > len(data):
            raise OSError("short package")
        pos[0] += n
        await asyncio.sleep(0)
        return data[pos[0] - n:pos[0]]

    return read


def tmp_root():
    base = "/tmp" if "tmp" in os.listdir("/") else ""
    d = base + "/kkm-fleet-" + binascii.hexlify(os.urandom(6)).decode()
    os.mkdir(d)
    return d + "/"


def run(coro):
    return asyncio.run(coro)
