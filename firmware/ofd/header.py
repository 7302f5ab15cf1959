# The 18-byte frame header of protocol 2.0.3 (little-endian, both directions):
#
#   offset size field
#   0      2    APPCODE  always 0x81A2 (bytes A2 81)
#   2      2    VERSION  203 for "2.0.3"
#   4      4    SIZE     total frame length including this header
#   8      4    ID       device id issued at registration
#   12     4    TOKEN    rotating exchange key
#   16     2    REQNUM   request counter
#
# pack(size, kkm_id, token, reqnum, version=203) -> 18 bytes
# unpack(buf, version=203, max_size=MAX_SIZE) -> Header(version, size, id, token, reqnum)
# next_reqnum(n) -> the request number to send after n (wraps to 0)
# Bad input raises ofd.ProtocolError.

import struct
from collections import namedtuple

from compat import const
from ofd import ProtocolError

SIZE = const(18)
APPCODE = const(0x81A2)
VERSION = const(203)
# Frames larger than this are refused (a ticket with many lines is a few KB).
MAX_SIZE = const(65536)

_FMT = "<HHIIIH"

Header = namedtuple("Header", ("version", "size", "id", "token", "reqnum"))


def _u(v, limit, what):
    # struct.pack truncates silently on MicroPython: check ranges first
    if not isinstance(v, int) or v < 0 or v > limit:
        raise ProtocolError("bad header field", what)
    return v


def pack(size, kkm_id, token, reqnum, version=VERSION):
    if not isinstance(size, int) or size < SIZE or size > 0xFFFFFFFF:
        raise ProtocolError("bad header field", "size")
    return struct.pack(
        _FMT,
        APPCODE,
        _u(version, 0xFFFF, "version"),
        size,
        _u(kkm_id, 0xFFFFFFFF, "id"),
        _u(token, 0xFFFFFFFF, "token"),
        _u(reqnum, 0xFFFF, "reqnum"),
    )


def unpack(buf, version=VERSION, max_size=MAX_SIZE):
    # version=None accepts any version; max_size=None accepts any size.
    if len(buf) < SIZE:
        raise ProtocolError("truncated header")
    app, ver, size, kkm_id, token, reqnum = struct.unpack_from(_FMT, buf, 0)
    if app != APPCODE:
        raise ProtocolError("bad application code", app)
    if version is not None and ver != version:
        raise ProtocolError("unsupported version", ver)
    if size < SIZE:
        raise ProtocolError("bad frame size", size)
    if max_size is not None and size > max_size:
        raise ProtocolError("frame too large", size)
    return Header(ver, size, kkm_id, token, reqnum)


def next_reqnum(n):
    # +1 per request, "reset to zero at maximum" (protocol text).
    return 0 if n >= 0xFFFF else n + 1
