# ESC/POS thermal receipt printer on an injected UART (docs/printer.md;
# the command facts are in the hardware reference, section 1).
#
# The UART is anything with write(buf), read(n) and any(): machine.UART on
# the device, a pipe or a test double on the PC. Writes go out in chunks
# paced at the line rate, so the asyncio loop is never held and the
# printer's small receive buffer does not overflow.
#
# Kazakh letters (KZ-32), by the profile's means, best first:
#   RK1048  the printer has the KZ-1048 code page (Epson ESC t 53)
#   UDC     CP866 plus the 16 Kazakh letters as user-defined characters
#           (ESC &), sent once per power-up; І і print as Latin I i
#   RASTER  CP866 text, and a line with a Kazakh letter as a GS v 0 image
#           drawn with the frozen font (drivers/escpos_raster.py)
# The QR code: GS ( k where the profile has it, else drawn by drivers/qr.py
# and sent as raster bands.
# MicroPython has no codecs: the code tables below are the driver's own.
#
# A job counts as printed only when the printer answers the GS r 1 sent
# after it: it answers once everything before it is on paper. No answer in
# time: the real-time status (DLE EOT) says why, and the printer's buffer
# is cleared (DLE ENQ 2) so nothing prints by itself when paper is loaded.

from aio import sleep_ms
from compat import ticks_diff, ticks_ms

ESC = b"\x1b"
GS = b"\x1d"

# what status() finds
OK = "ok"
NO_PAPER = "no_paper"
COVER_OPEN = "cover_open"
FAULT = "fault"  # cutter, mechanical, head or an unrecoverable error
ABSENT = "absent"  # no answer

RK1048 = "rk1048"
UDC = "udc"
RASTER = "raster"

CHUNK = 64  # bytes per write; 5.6 ms at 115200 baud
ANSWER_MS = 200  # a status answer later than this: the printer is absent
LINE_PITCH = 30  # dots (3.75 mm): the 24-dot cell and 0.75 mm between lines
UDC_FIRST = 0x41  # the user glyphs take codes 0x41..0x50 while ESC % 1 is on
CUT_FEED = 3  # GS V 66 n: feed to the cutter plus n dots, partial cut


class Profile:
    # a printer model family: dots and characters per line (font A),
    # ESC t numbers (None: the page is missing), GS ( k QR, ESC & glyphs,
    # an auto-cutter
    def __init__(self, name, dots, cols, cp866, cp1251, rk1048, qr, udc, cutter):
        self.name = name
        self.dots = dots
        self.cols = cols
        self.cp866 = cp866
        self.cp1251 = cp1251  # for the service centre's self-test page; receipts use CP866 or RK1048
        self.rk1048 = rk1048
        self.qr = qr
        self.udc = udc
        self.cutter = cutter

    def strategy(self):
        if self.rk1048 is not None:
            return RK1048
        return UDC if self.udc else RASTER


# ESC t numbers: Epson TM (TM-T88V profile), XPrinter and most clones,
# Rongta RP, KR-306 / YHD. A 58 mm panel printer without QR or user glyphs
# is the raster case.
PROFILES = (
    Profile("epson80", 576, 48, 17, 46, 53, True, True, True),
    Profile("xprinter80", 576, 48, 17, 73, None, True, True, True),
    Profile("xprinter58", 384, 32, 17, 73, None, True, True, False),
    Profile("rongta80", 576, 48, 7, 6, None, True, True, True),
    Profile("rongta58", 384, 32, 7, 6, None, True, True, False),
    Profile("kr306", 576, 48, 12, None, None, True, True, True),
    Profile("panel58", 384, 32, 17, 73, None, False, False, False),
)


def profile(name):
    for p in PROFILES:
        if p.name == name:
            return p
    raise ValueError("unknown printer profile %s" % name)


# --- code tables ---------------------------------------------------------------
# А..я are contiguous in Unicode (U+0410..U+044F); RK1048 keeps them where
# cp1251 has them (0xC0..0xFF), CP866 in two runs. The rest: small tables.
KAZAKH = "ӘәҒғҚқҢңӨөҰұҮүҺһІі"
_KZ_RK = b"\xa3\xbc\xaa\xba\x8d\x9d\xbd\xbe\xa5\xb4\xa1\xa2\xaf\xbf\x8e\x9e\xb2\xb3"
_OTHER = "Ёё№«»–—°"
_OTHER_RK = b"\xa8\xb8\xb9\xab\xbb\x96\x97\xb0"
_OTHER_866 = b"\xf0\xf1\xfc\x22\x22\x2d\x2d\xf8"


def _cyr(o, rk):
    # А..я -> byte, or None
    if 0x410 <= o <= 0x44F:
        if rk:
            return o - 0x350  # 0xC0 + (o - 0x410)
        return 0x80 + o - 0x410 if o < 0x440 else 0xE0 + o - 0x440
    return None


def encode(text, strategy):
    # one line of text -> bytes in the strategy's code page; a Kazakh
    # letter without a code there becomes its user glyph between ESC % 1 and
    # ESC % 0 (UDC), a run of them shares one switch; anything unknown "?"
    rk = strategy == RK1048
    out = bytearray()
    user = False
    for ch in text:
        o = ord(ch)
        k = KAZAKH.find(ch) if o > 0x7F else -1
        if k >= 0 and not rk and k < 16:
            if not user:
                out += b"\x1b%\x01"
                user = True
            out.append(UDC_FIRST + k)
            continue
        if user:
            out += b"\x1b%\x00"
            user = False
        if o < 0x80:
            out.append(o if o >= 0x20 else 0x20)
            continue
        b = _cyr(o, rk)
        if b is None:
            if k >= 0:
                b = _KZ_RK[k] if rk else (0x49, 0x69)[k - 16]  # І і: the Latin I i
            else:
                j = _OTHER.find(ch)
                b = 0x3F if j < 0 else (_OTHER_RK if rk else _OTHER_866)[j]
        out.append(b)
    if user:
        out += b"\x1b%\x00"
    return bytes(out)


def needs_image(text):
    # a line the raster strategy sends as an image: it has a Kazakh letter
    # that CP866 lacks (І і print as Latin letters)
    for ch in text:
        k = KAZAKH.find(ch) if ord(ch) > 0x7F else -1
        if 0 <= k < 16:
            return True
    return False


# --- commands ---------------------------------------------------------------------


def init_bytes(prof):
    # once per power-up: Chinese double-byte mode off (clones start in it),
    # reset, code page, line pitch, and for UDC the Kazakh glyphs (ESC @
    # would erase them, so a receipt resets its modes one by one instead)
    st = prof.strategy()
    page = prof.rk1048 if st == RK1048 else prof.cp866
    out = bytearray(b"\x1c.\x1b@\x1bt")
    out.append(page)
    out += b"\x1b3"
    out.append(LINE_PITCH)
    if st == UDC:
        from drivers import escpos_udc as U

        n = len(U.LETTERS)
        out += b"\x1b&\x03"
        out.append(UDC_FIRST)
        out.append(UDC_FIRST + n - 1)
        size = 3 * U.WIDTH
        for i in range(n):
            out.append(U.WIDTH)
            out += U.GLYPHS[i * size:(i + 1) * size]
    return bytes(out)


JOB_START = b"\x1b!\x00\x1bE\x00\x1ba\x00"  # modes a previous job may have left


def text_line(text, strategy, bold=False, tall=False):
    # one line of text with its line feed, modes reset after it
    out = bytearray()
    if bold:
        out += b"\x1bE\x01"
    if tall:
        out += b"\x1b!\x10"
    out += encode(text, strategy)
    out += b"\n"
    if tall:
        out += b"\x1b!\x00"
    if bold:
        out += b"\x1bE\x00"
    return bytes(out)


def raster_line(text, dots, bold=False, tall=False):
    # one line of text as a GS v 0 image (24 dot rows; tall: printed at
    # double height, m = 2) with the frozen font
    from drivers import escpos_raster as R

    xb = dots // 8
    buf = bytearray(xb * 24)
    glyphs = R.GLYPHS
    chars = R.CHARS
    q = chars.find("?")
    for i in range(min(len(text), dots // 12)):
        ch = text[i]
        if ch == " ":
            continue
        g = chars.find(ch)
        base = (q if g < 0 else g) * 48
        pos = i * 12
        b = pos >> 3
        sh = 12 - (pos & 7)
        for r in range(24):
            v = (glyphs[base + 2 * r] << 4) | (glyphs[base + 2 * r + 1] >> 4)
            if bold:
                v |= v >> 1
            v <<= sh
            at = r * xb + b
            buf[at] |= v >> 16
            buf[at + 1] |= (v >> 8) & 0xFF
            if v & 0xFF:
                buf[at + 2] |= v & 0xFF
    head = bytearray(b"\x1dv0")
    head.append(2 if tall else 0)
    head += bytes((xb & 0xFF, xb >> 8, 24, 0))
    return bytes(head) + bytes(buf)


QR_CAPACITY_M = (14, 26, 42, 62, 84, 106, 122, 152, 180, 213)  # byte mode, level M, versions 1..10
QR_MIN_DOTS = 160  # 20 mm at 8 dots per mm (KZ-36)


def qr_module(n, dots):
    # dots per module for n bytes at level M: at least 20 mm, quiet zone
    # of 4 modules inside the paper; None when the data needs more than
    # version 10
    for v in range(len(QR_CAPACITY_M)):
        if n <= QR_CAPACITY_M[v]:
            side = 21 + 4 * v
            m = (QR_MIN_DOTS + side - 1) // side
            return m if (side + 8) * m <= dots else None
    return None


def qr_bytes(data, dots):
    # GS ( k model 2, level M, centred; data: bytes
    m = qr_module(len(data), dots)
    if m is None:
        raise ValueError("QR data too long")
    k = len(data) + 3
    return (b"\x1ba\x01\x1d(k\x04\x001A2\x00\x1d(k\x03\x001C" + bytes((m,)) + b"\x1d(k\x03\x001E1"
            + b"\x1d(k" + bytes((k & 0xFF, k >> 8)) + b"1P0" + data + b"\x1d(k\x03\x001Q0\n\x1ba\x00")


def qr_band(m, y, module):
    # module row y of a drivers.qr Matrix as a GS v 0 image `module` dots high
    n = m.size
    xb = (n * module + 7) // 8
    row = bytearray(xb)
    for x in range(n):
        if m.get(x, y):
            for k in range(x * module, x * module + module):
                row[k >> 3] |= 0x80 >> (k & 7)
    return b"\x1dv0\x00" + bytes((xb & 0xFF, xb >> 8, module, 0)) + bytes(row) * module


def cut_bytes(prof):
    # feed past the tear bar or the cutter, and cut where there is one
    if prof.cutter:
        return b"\x1dVB" + bytes((CUT_FEED,))
    return b"\x1bd\x04"


STATUS_ASK = b"\x10\x04\x01\x10\x04\x02\x10\x04\x03\x10\x04\x04"
CONFIRM_ASK = b"\x1dr\x01"  # paper sensor status, answered after the job is printed
CLEAR = b"\x10\x05\x02"  # recover from the error, clear the receive and print buffers


def decode_status(reply):
    # the four DLE EOT answers (n = 1..4) -> OK, NO_PAPER, COVER_OPEN,
    # FAULT or ABSENT, and whether the paper is near its end
    if len(reply) < 4:
        return ABSENT, False
    for b in reply[:4]:
        if b & 0x93 != 0x12:
            return FAULT, False  # not a status byte: garbled line
    printer, cause, error, paper = reply[0], reply[1], reply[2], reply[3]
    near = bool(paper & 0x0C)
    if paper & 0x60 or cause & 0x20:
        return NO_PAPER, near
    if cause & 0x04:
        return COVER_OPEN, near
    if error & 0x68 or cause & 0x40 or printer & 0x08:
        return FAULT, near
    return OK, near


class EscPos:
    # the printer on its UART. baud: the line rate the writes are paced at
    # (0: no pacing, for pipes and tests)
    def __init__(self, uart, prof, baud=115200):
        self.uart = uart
        self.prof = prof
        self.strategy = prof.strategy()
        self.baud = baud
        self.ready = False  # init_bytes sent since the printer last answered
        self.near_end = False

    def _drain(self):
        u = self.uart
        while u.any():
            u.read(u.any())

    async def send(self, data):
        # data to the printer in paced chunks
        u = self.uart
        mv = memoryview(data)
        for i in range(0, len(data), CHUNK):
            part = mv[i:i + CHUNK]
            u.write(part)
            await sleep_ms(len(part) * 10000 // self.baud if self.baud else 0)

    async def _answer(self, n, timeout_ms):
        # n bytes from the printer, or fewer at the deadline
        u = self.uart
        got = b""
        t0 = ticks_ms()
        while len(got) < n:
            k = u.any()
            if k:
                got += u.read(min(k, n - len(got)))
                continue
            if ticks_diff(ticks_ms(), t0) >= timeout_ms:
                break
            await sleep_ms(5)
        return got

    async def status(self):
        # the real-time status now (DLE EOT 1..4)
        self._drain()
        await self.send(STATUS_ASK)
        st, self.near_end = decode_status(await self._answer(4, ANSWER_MS))
        if st == ABSENT:
            self.ready = False  # switched off or unplugged: its glyphs are gone
        return st

    async def start(self):
        # the power-up set-up, once the printer answers
        await self.send(init_bytes(self.prof))
        self.ready = True

    async def confirm(self, timeout_ms):
        # True when the GS r 1 answer comes and shows paper (bits 2, 3: end)
        self._drain()
        await self.send(CONFIRM_ASK)
        a = await self._answer(1, timeout_ms)
        return len(a) == 1 and a[0] & 0x90 == 0 and not a[0] & 0x0C

    async def clear(self):
        # after a failed job: nothing left in the printer prints by itself
        await self.send(CLEAR)

    def line(self, text, bold=False, tall=False):
        if self.strategy == RASTER and needs_image(text):
            return raster_line(text, self.prof.dots, bold, tall)
        return text_line(text, self.strategy, bold, tall)

    async def print_qr(self, data):
        # GS ( k where the profile has it, else the symbol drawn here and
        # sent as raster bands, one per module row
        if self.prof.qr:
            await self.send(qr_bytes(data, self.prof.dots))
            return
        from drivers import qr

        module = qr_module(len(data), self.prof.dots)
        if module is None:
            raise ValueError("QR data too long")
        m = await qr.matrix(data)
        await self.send(b"\x1ba\x01")
        for y in range(m.size):
            await self.send(qr_band(m, y, module))
        await self.send(b"\n\x1ba\x00")

    def cut(self):
        return cut_bytes(self.prof)
