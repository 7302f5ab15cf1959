"""The 18-byte little-endian header of protocol 2.0.3 (host side).

Layout: APPCODE u16 (0x81A2), VERSION u16 (203), SIZE u32 (whole message
including the header), ID u32, TOKEN u32, REQNUM u16.
"""

import struct

APPCODE = 0x81A2
VERSION = 203
HEADER_SIZE = 18
_FMT = struct.Struct("<HHIIIH")
assert _FMT.size == HEADER_SIZE


class HeaderError(ValueError):
    """The 18 bytes are not a protocol header."""


class Header:
    __slots__ = ("appcode", "version", "size", "kkm_id", "token", "reqnum")

    def __init__(self, kkm_id, token, reqnum, size=HEADER_SIZE, version=VERSION, appcode=APPCODE):
        self.appcode = appcode
        self.version = version
        self.size = size
        self.kkm_id = kkm_id
        self.token = token
        self.reqnum = reqnum

    def __repr__(self):
        return "Header(app=0x%04X ver=%d size=%d id=%d token=%d reqnum=%d)" % (
            self.appcode, self.version, self.size, self.kkm_id, self.token, self.reqnum)

    def __eq__(self, other):
        return isinstance(other, Header) and all(
            getattr(self, k) == getattr(other, k) for k in self.__slots__)


def parse_header(data):
    """Parse exactly 18 bytes; raises HeaderError on a wrong length or APPCODE."""
    if len(data) != HEADER_SIZE:
        raise HeaderError("header needs %d bytes, got %d" % (HEADER_SIZE, len(data)))
    appcode, version, size, kkm_id, token, reqnum = _FMT.unpack(data)
    if appcode != APPCODE:
        raise HeaderError("bad application code 0x%04X" % appcode)
    if size < HEADER_SIZE:
        raise HeaderError("size %d is shorter than the header" % size)
    return Header(kkm_id, token, reqnum, size, version, appcode)


def build_header(kkm_id, token, reqnum, payload_len, version=VERSION):
    return _FMT.pack(APPCODE, version, HEADER_SIZE + payload_len,
                     kkm_id & 0xFFFFFFFF, token & 0xFFFFFFFF, reqnum & 0xFFFF)


def frame(kkm_id, token, reqnum, payload, version=VERSION):
    """Header + payload: one whole protocol message."""
    return build_header(kkm_id, token, reqnum, len(payload), version) + payload
