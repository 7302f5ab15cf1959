# The cost of verifying an update's signature on the device's runtime
# (docs/performance.md, "Signed updates"):
#
#   micropython tools/bench_sign.py       (also: python tools/bench_sign.py)
#
# LMS verification (firmware/fleet/sign.py) for W4 (the fleet's choice) and
# W8 (the RFC's test vector), the cost of one SHA-256 call on 55 bytes, and
# for comparison the field multiplication modulo 2^255-19 that a pure-Python
# Ed25519 verification needs several thousand of.
import sys
import time

_ROOT = (__file__.rsplit("/", 1)[0] if "/" in __file__ else ".") + "/.."  # the project
for p in (_ROOT + "/firmware", _ROOT + "/tests/core", _ROOT):
    if p not in sys.path:
        sys.path.insert(0, p)

import binascii  # noqa: E402
import hashlib  # noqa: E402

from fleet import sign as S  # noqa: E402
from tools import fleet_sign as FS  # noqa: E402

# a double scalar multiplication (about 256 doublings and 190 additions in extended
# coordinates, 8-9 multiplications each) and the point decompression's exponentiation
ED25519_MULS = 4500


def now_us():
    if hasattr(time, "ticks_us"):
        return time.ticks_us()
    return int(time.perf_counter() * 1e6)


def per_call(fn, n):
    t = now_us()
    for _ in range(n):
        fn()
    return (now_us() - t) / n


def main():
    runtime = sys.implementation.name
    key = FS.Key(5, 3, b"bench-key-id-16b", b"\x42" * 32)  # H5 W4: the path is 5 hashes shorter than H10's
    msg = hashlib.sha256(b"package body").digest()
    sig = key.sign(7, msg)
    pub = key.public()
    assert S.verify(pub, msg, sig)
    w4 = per_call(lambda: S.verify(pub, msg, sig), 20)
    import lmskit as V

    raw = binascii.unhexlify(V.SIG1)
    top = binascii.unhexlify(V.PUB1)[4:]
    n = S.sig_size(5, 4)
    low = raw[4 + n:4 + n + S.PUB_SIZE]
    w8 = per_call(lambda: S.verify(low, V.MSG1, raw[4 + n + S.PUB_SIZE:]), 5)
    buf = bytearray(55)
    sha = per_call(lambda: hashlib.sha256(buf).digest(), 2000)
    p = (1 << 255) - 19
    a = p - 12345678901234567
    b = p - 98765432109876543
    mul = per_call(lambda: a * b % p, 2000)
    print("runtime %s" % runtime)
    print("LMS verify W4 (H5): %.1f ms, signature %d bytes" % (w4 / 1000, len(sig)))
    print("LMS verify W8 (H5, RFC 8554 test case 1): %.1f ms" % (w8 / 1000))
    print("one SHA-256 call (55 bytes): %.2f us" % sha)
    print("one multiplication mod 2^255-19: %.2f us; Ed25519 estimate (%d of them): %.1f ms"
          % (mul, ED25519_MULS, mul * ED25519_MULS / 1000))


main()
