# Core tests of the 18-byte header (ofd.header) and framing (ofd.frame).
# Requirements: KZ-4 (protocol), KZ-20 (exchange token carried in the header).

import ofd
from ofd import frame, header, schema

PE = ofd.ProtocolError

# Real response header captured from a 2.0.3 server (protocol facts, section 2).
CAPTURED = bytes.fromhex("A281CB0041020000131B0300F4C90A285400")


def _raises(fn, *args):
    try:
        fn(*args)
    except PE as e:
        return e.args
    raise AssertionError("no ProtocolError")


class Chunky:
    # A stream returning at most `step` bytes per call, via read() only.
    def __init__(self, data, step=1):
        self.data = data
        self.pos = 0
        self.step = step

    def read(self, n):
        n = min(n, self.step)
        b = self.data[self.pos : self.pos + n]
        self.pos += len(b)
        return b


class IntoStream:
    # A stream offering readinto() (like a socket file).
    def __init__(self, data, step=7):
        self.data = data
        self.pos = 0
        self.step = step
        self.calls = 0

    def readinto(self, buf):
        self.calls += 1
        n = min(len(buf), self.step, len(self.data) - self.pos)
        buf[0:n] = self.data[self.pos : self.pos + n]
        self.pos += n
        return n


def test_kz_20_captured_header_unpacks():
    h = header.unpack(CAPTURED, None, None)
    assert h == (203, 577, 203539, 0x280AC9F4, 84)
    assert h.version == 203 and h.size == 577 and h.id == 203539
    assert h.token == 0x280AC9F4 and h.reqnum == 84


def test_kz_20_captured_header_packs_back():
    assert header.pack(577, 203539, 0x280AC9F4, 84) == CAPTURED
    assert len(header.pack(18, 0, 0, 0)) == header.SIZE == 18


def test_header_validation():
    assert _raises(header.unpack, CAPTURED[:17])[0] == "truncated header"
    assert _raises(header.unpack, b"\xa3" + CAPTURED[1:]) == ("bad application code", 0x81A3)
    assert _raises(header.unpack, header.pack(100, 1, 2, 3, 202)) == ("unsupported version", 202)
    assert header.unpack(header.pack(100, 1, 2, 3, 202), None).version == 202
    small = CAPTURED[:4] + bytes([17, 0, 0, 0]) + CAPTURED[8:]
    assert _raises(header.unpack, small) == ("bad frame size", 17)
    assert _raises(header.unpack, header.pack(65537, 1, 2, 3)) == ("frame too large", 65537)
    assert header.unpack(header.pack(65537, 1, 2, 3), 203, None).size == 65537


def test_header_pack_range_checks():
    assert header.pack(18, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFF)[8:] == bytes([0xFF] * 10)
    assert _raises(header.pack, 18, 1 << 32, 0, 0) == ("bad header field", "id")
    assert _raises(header.pack, 18, 0, -1, 0) == ("bad header field", "token")
    assert _raises(header.pack, 18, 0, 0, 65536) == ("bad header field", "reqnum")
    assert _raises(header.pack, 17, 0, 0, 0) == ("bad header field", "size")


def test_reqnum_wraps_to_zero():
    assert header.next_reqnum(0) == 1
    assert header.next_reqnum(84) == 85
    assert header.next_reqnum(65534) == 65535
    assert header.next_reqnum(65535) == 0


def _frame():
    return frame.build_message(schema.Request, {"command": schema.COMMAND_SYSTEM,
                                                "service": {"get_reg_info": True}},
                               203539, 0x280AC9F4, 85)


def test_frame_roundtrip_with_read_and_readinto():
    data = _frame()
    assert header.unpack(data).size == len(data)
    for stream in (Chunky(data, 1), Chunky(data, 1000), IntoStream(data, 1), IntoStream(data, 7)):
        h, msg = frame.read_message(stream, schema.Request)
        assert (h.id, h.token, h.reqnum) == (203539, 0x280AC9F4, 85)
        assert msg == {"command": 0, "service": {"get_reg_info": True}}
        assert stream.pos == len(data)


def test_frame_reads_exactly_size_bytes():
    data = _frame()
    s = Chunky(data + b"NEXT", 1000)
    frame.read_frame(s)
    assert s.pos == len(data)


def test_truncated_frames():
    data = _frame()
    for n in (0, 5, 17, 18, len(data) - 1):
        assert _raises(frame.read_frame, Chunky(data[:n], 3))[0] in ("truncated",)
        assert _raises(frame.read_frame, IntoStream(data[:n], 3))[0] in ("truncated",)


def test_huge_size_is_refused_before_reading():
    h = header.pack(0xFFFFFFFF, 1, 2, 3)
    s = IntoStream(h + b"x" * 100)
    assert _raises(frame.read_frame, s) == ("frame too large", 0xFFFFFFFF)
    assert s.pos == 18


def test_split_and_build():
    data = _frame()
    h, payload = frame.split(data)
    assert frame.build(payload, h.id, h.token, h.reqnum) == data
    assert _raises(frame.split, data + b"x")[0] == "frame size mismatch"
    assert _raises(frame.build, bytes(65536 - 17), 1, 2, 3)[0] == "frame too large"


def test_header_only_frame_has_empty_payload():
    h, payload = frame.read_frame(Chunky(header.pack(18, 1, 2, 3)))
    assert payload == b"" and h.size == 18
