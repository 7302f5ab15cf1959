# Barcode scanner on a UART (serial or TTL mode), as an asyncio task.
#
# The driver frames what the scanner sends into codes: one code per line
# (suffix CR, LF or CR LF: MicroPython's readline stops on LF only, so the
# bytes are split here), an AIM symbology prefix (`]d2` GS1 DataMatrix,
# `]E0` EAN-13, ...) and a configured prefix stripped, the scanner's
# substitutes for the GS separator (FNC1) turned into GS (0x1D). What it
# cannot frame becomes the empty code "": bytes cut off without a suffix
# (a partial read: silence longer than gap_ms), noise (control or 8-bit
# bytes), an overlong line. The UI refuses "" with a message and a beep;
# check digits and marking-code structure are the core's (kkm.ids).
#
# The UART is polled (any()/read()) every poll_ms: the same code runs on
# machine.UART, the host's UART stand-in and the test double; at 9600 baud
# a 10 ms poll sees about 10 bytes, far inside the 1 KB receive buffer.

from aio import sleep_ms
from compat import const, ticks_diff, ticks_ms

GS = const(0x1D)
FNC1 = const(0xE8)  # the DataMatrix FNC1 codeword, sent raw by some scanners
CR = const(0x0D)
LF = const(0x0A)
POLL_MS = const(10)
GAP_MS = const(80)  # a pause inside a code longer than this: the rest is lost
MAX_LEN = const(200)  # kkm.ids MAX_MARK_LEN
QUEUE = const(8)  # codes not taken yet; more are dropped (the cashier scans again)
# texts some scanners are set to send for the GS separator; "<GS>" is made
# of characters a serial may hold: pass gs_texts=() for a scanner that sends GS
GS_TEXTS = (b"<GS>", b"{GS}", b"[GS]", b"\\x1d", b"^]")
MISREAD = ""


class Scanner:
    def __init__(self, uart, prefix=b"", gap_ms=GAP_MS, poll_ms=POLL_MS, ticks=ticks_ms, gs_texts=GS_TEXTS):
        self.uart = uart
        self.gs_texts = gs_texts
        self.prefix = prefix  # a prefix configured in the scanner
        self.gap_ms = gap_ms
        self.poll_ms = poll_ms
        self.ticks = ticks
        self.line = bytearray()
        self.over = False  # the line ran past MAX_LEN: dropped at its end
        self.last = 0  # when the last byte came
        self.ready = []  # framed codes, oldest first
        self.misreads = 0  # for the service log
        self.symbology = None  # the AIM identifier of the last code, e.g. "]d2"

    # --- framing (called by the task; tests call it with their own time) ----

    def pump(self, now=None):
        now = self.ticks() if now is None else now
        n = self.uart.any()
        if n:
            data = self.uart.read(n)
            if data:
                self.feed(data, now)
        elif self.line and ticks_diff(now, self.last) > self.gap_ms:
            self._done(None)  # a code cut off: no suffix came
        return len(self.ready)

    def feed(self, data, now):
        for b in data:
            if b == CR or b == LF:
                if self.line or self.over:
                    self._done(self.line)
                continue
            if len(self.line) >= MAX_LEN:
                self.over = True
            else:
                self.line.append(b)
        self.last = now

    def _done(self, raw):
        code = MISREAD if raw is None or self.over else self.frame(bytes(raw))
        self.line = bytearray()
        self.over = False
        if code == MISREAD:
            self.misreads += 1
        if len(self.ready) < QUEUE:
            self.ready.append(code)

    def frame(self, raw):
        # one line -> the code, or MISREAD
        if self.prefix and raw.startswith(self.prefix):
            raw = raw[len(self.prefix):]
        self.symbology = None
        if len(raw) >= 3 and raw[0] == 0x5D and 0x41 <= raw[1] <= 0x7A:  # "]" letter digit
            self.symbology = raw[:3].decode()
            raw = raw[3:]
        for t in self.gs_texts:
            if t in raw:
                raw = raw.replace(t, b"\x1d")
        out = bytearray()
        for b in raw:
            if b == FNC1:
                b = GS
            if b != GS and not (0x20 < b < 0x7F):
                return MISREAD  # noise, a space, or a byte no barcode carries
            out.append(b)
        while out and out[0] == GS:
            out = out[1:]  # a leading FNC1 only says "GS1"
        while out and out[-1] == GS:
            out = out[:-1]
        return out.decode() if out else MISREAD

    # --- the app's side ----------------------------------------------------------

    async def get(self):
        # the next code ("" for a misread)
        while not self.ready:
            self.pump()
            if not self.ready:
                await sleep_ms(self.poll_ms)
        return self.ready.pop(0)
