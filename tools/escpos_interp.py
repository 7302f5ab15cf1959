"""An ESC/POS printer on the PC: bytes in, paper (PNG), a text transcript and
the status answers a real printer gives out.

    python tools/escpos_interp.py JOB.bin --profile xprinter58 --png paper.png

It honours the code pages of its profile (CP866, CP1251, RK1048 through
CPython's codecs, independent of the driver's own tables), user-defined
characters (ESC & / ESC %), raster images (GS v 0), QR codes (GS ( k, drawn
with segno), cuts, line pitch, bold and double height; it answers DLE EOT
n = 1..4 and GS r 1, clears on DLE ENQ 2, and plays paper end (now, or
after so many dot rows), cover open and silence on demand. A clone starts
in Chinese double-byte mode until FS . Every unknown or malformed command
is reported in `errors`, never skipped silently.

The ROM font is tools/printer_font.py (12 x 24 cells).
"""

import argparse
import os
import select
import sys
import threading

sys.path[:0] = [os.path.dirname(os.path.abspath(__file__)),
                os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "firmware"),
                os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")]

import printer_font as F  # noqa: E402
from gen_printer_font import KAZAKH_UDC  # noqa: E402
import segno  # noqa: E402
from PIL import Image  # noqa: E402

from drivers.escpos import PROFILES  # noqa: E402

DLE, ESC, GS, FS, LF = 0x10, 0x1B, 0x1D, 0x1C, 0x0A
INK = 0
WHITE = 255
_QR_LEVELS = {0x30: "l", 0x31: "m", 0x32: "q", 0x33: "h"}


def pages(prof):
    # ESC t n -> codec of the model family
    out = {0: "cp437"}
    for n, codec in ((prof.cp866, "cp866"), (prof.cp1251, "cp1251"), (prof.rk1048, "kz1048")):
        if n is not None:
            out[n] = codec
    return out


class Incomplete(Exception):
    # the command's bytes have not all arrived yet
    pass


class Printer:
    def __init__(self, profile="epson80", paper_rows=None):
        prof = [p for p in PROFILES if p.name == profile][0]
        self.prof = prof
        self.dots = prof.dots
        self.pages = pages(prof)
        self.rows = []  # printed dot rows, bytearray(dots) each
        self.transcript = []  # one text line per printed line
        self.errors = []  # (byte offset, message)
        self.out = bytearray()  # answers to the host
        self.inbuf = bytearray()
        self.fed = 0  # bytes taken in so far (offsets in errors)
        self.paper_rows = paper_rows  # dot rows of paper left (None: endless)
        self.paper_out = False
        self.cover_open = False
        self.cutter_error = False
        self.near_end = False
        self.silent = False  # no answer at all (switched off, cable out)
        self.chinese = prof.name[:5] != "epson"  # clones start in double-byte mode
        self.cuts = 0
        self.qr_codes = []  # the data of every QR printed
        self.reset()

    def reset(self):
        self.page = 0
        self.bold = False
        self.tall = False
        self.wide = False
        self.align = 0
        self.pitch = 30
        self.udc = {}  # code -> glyph rows (12-bit ints)
        self.udc_on = False
        self.line = []  # (glyph, bold, tall, wide, text)
        self.qr = {"model": 0x32, "size": 3, "level": "m", "data": None}

    # --- the host side ------------------------------------------------------

    def feed(self, data):
        self.inbuf += data
        self.run()

    def read(self):
        b = bytes(self.out)
        self.out = bytearray()
        return b

    def load_paper(self):
        self.paper_out = False
        self.paper_rows = None
        self.run()

    def take_paper(self):
        self.paper_out = True

    def close_cover(self):
        self.cover_open = False
        self.run()

    def stopped(self):
        return self.paper_out or self.cover_open

    # --- the command loop ------------------------------------------------------

    def run(self):
        while True:
            self._realtime()
            if self.stopped() or not self.inbuf:
                return
            try:
                n = self._one(self.inbuf)
            except Incomplete:
                return
            del self.inbuf[:n]
            self.fed += n

    def _realtime(self):
        # DLE EOT n and DLE ENQ n act on arrival, even while stopped
        buf = self.inbuf
        i = buf.find(DLE)
        while 0 <= i < len(buf) - 2:
            k, n = buf[i + 1], buf[i + 2]
            if k == 0x04 and 1 <= n <= 4:
                self._answer_status(n)
                del buf[i:i + 3]
            elif k == 0x05 and n in (1, 2):
                # ENQ 2: recover, the data received before it is cleared
                if n == 2:
                    del buf[:i + 3]
                    self.line = []
                    i = 0
                else:
                    del buf[i:i + 3]
            else:
                i += 1
            i = buf.find(DLE, i)

    def _answer_status(self, n):
        if self.silent:
            return
        b = 0x12
        offline = self.stopped()
        if n == 1 and offline:
            b |= 0x08
        elif n == 2:
            if self.cover_open:
                b |= 0x04
            if self.paper_out:
                b |= 0x20
        elif n == 3 and self.cutter_error:
            b |= 0x08
        elif n == 4:
            if self.paper_out:
                b |= 0x60
            if self.near_end:
                b |= 0x0C
        self.out.append(b)

    def _err(self, msg):
        self.errors.append((self.fed, msg))

    def _need(self, buf, n):
        if len(buf) < n:
            raise Incomplete()

    def _one(self, buf):
        # one command or character at the front of buf -> bytes taken
        c = buf[0]
        if c == LF:
            self._print_line()
            return 1
        if c == ESC:
            self._need(buf, 2)
            return self._esc(buf)
        if c == GS:
            self._need(buf, 2)
            return self._gs(buf)
        if c == FS:
            self._need(buf, 2)
            if buf[1] == 0x2E:
                self.chinese = False
            elif buf[1] == 0x26:
                self.chinese = True
            else:
                self._err("unknown command FS %02X" % buf[1])
            return 2
        if c == DLE:
            self._need(buf, 3)
            self._err("malformed DLE command %s" % bytes(buf[:3]).hex())
            return 3
        if c < 0x20:
            self._err("unknown control byte %02X" % c)
            return 1
        self._char(c)
        return 1

    def _esc(self, buf):
        k = buf[1]
        if k == 0x40:  # ESC @
            self.line = []
            self.reset()
            return 2
        if k == 0x32:  # ESC 2
            self.pitch = 30
            return 2
        one = {0x21: self._mode, 0x45: self._bold, 0x61: self._align, 0x33: self._pitch, 0x64: self._feed,
               0x74: self._page, 0x25: self._udc_switch, 0x4D: self._font}
        if k in one:
            self._need(buf, 3)
            one[k](buf[2])
            return 3
        if k == 0x26:
            return self._udc_define(buf)
        if k == 0x70:  # ESC p m t1 t2: drawer
            self._need(buf, 5)
            return 5
        self._err("unknown command ESC %02X" % k)
        return 2

    def _gs(self, buf):
        k = buf[1]
        if k == 0x21:  # GS ! n
            self._need(buf, 3)
            self.wide = bool(buf[2] & 0xF0)
            self.tall = bool(buf[2] & 0x0F)
            return 3
        if k == 0x56:  # GS V m [n]
            self._need(buf, 3)
            m = buf[2]
            if m in (0, 1, 0x30, 0x31):
                self._cut()
                return 3
            if m in (0x41, 0x42):
                self._need(buf, 4)
                self._advance(buf[3])
                self._cut()
                return 4
            self._err("malformed cut GS V %02X" % m)
            return 3
        if k == 0x76:
            return self._raster(buf)
        if k == 0x28:
            return self._gs_paren(buf)
        if k == 0x72:  # GS r n
            self._need(buf, 3)
            if buf[2] not in (1, 0x31):
                self._err("unsupported GS r %d" % buf[2])
            elif not self.silent:
                self.out.append((0x0C if self.paper_out else 0) | (0x03 if self.near_end else 0))
            return 3
        self._err("unknown command GS %02X" % k)
        return 2

    # --- modes --------------------------------------------------------------------

    def _mode(self, n):
        self.bold = bool(n & 0x08)
        self.tall = bool(n & 0x10)
        self.wide = bool(n & 0x20)
        if n & 0x81:
            self._err("unsupported print mode ESC ! %02X" % n)

    def _bold(self, n):
        self.bold = bool(n & 1)

    def _align(self, n):
        if n not in (0, 1, 2, 0x30, 0x31, 0x32):
            self._err("malformed ESC a %d" % n)
        self.align = n & 3

    def _pitch(self, n):
        self.pitch = n

    def _feed(self, n):
        self._print_line()
        self._advance(n * self.pitch)

    def _font(self, n):
        if n not in (0, 0x30):
            self._err("font B is not modelled (ESC M %d)" % n)

    def _page(self, n):
        if n not in self.pages:
            self._err("code page %d is not on this printer" % n)
            return
        self.page = n

    def _udc_switch(self, n):
        self.udc_on = bool(n & 1)

    def _udc_define(self, buf):
        self._need(buf, 5)
        y, c1, c2 = buf[2], buf[3], buf[4]
        if y != 3 or not 0x20 <= c1 <= c2 <= 0x7E:
            self._err("malformed ESC & %d %02X %02X" % (y, c1, c2))
            return 5
        at = 5
        glyphs = {}
        for code in range(c1, c2 + 1):
            self._need(buf, at + 1)
            x = buf[at]
            if x > 12:
                self._err("user character %02X is %d dots wide (at most 12)" % (code, x))
            self._need(buf, at + 1 + 3 * x)
            cols = buf[at + 1:at + 1 + 3 * x]
            rows = [0] * 24
            for cx in range(min(x, 12)):
                for band in range(3):
                    b = cols[cx * 3 + band]
                    for bit in range(8):
                        if b & (0x80 >> bit):
                            rows[band * 8 + bit] |= 1 << (11 - cx)
            glyphs[code] = tuple(rows)
            at += 1 + 3 * x
        self.udc.update(glyphs)
        return at

    # --- text ---------------------------------------------------------------------

    def _char(self, c):
        if c >= 0x80 and self.chinese:
            self._err("byte %02X in Chinese double-byte mode (no FS .)" % c)
        if self.udc_on and c in self.udc:
            g = self.udc[c]
            text = _named(g)
        else:
            text = bytes([c]).decode(self.pages[self.page], errors="replace")
            g = F.glyph(text)
        if len(self.line) >= self.dots // 12:
            self._err("line longer than %d characters" % (self.dots // 12))
            return
        self.line.append((g, self.bold, self.tall, self.wide, text))

    def _print_line(self):
        items = self.line
        self.line = []
        if not items:
            self._advance(self.pitch)
            self.transcript.append("")
            return
        tall = any(it[2] for it in items)
        h = 48 if tall else 24
        width = sum(24 if it[3] else 12 for it in items)
        x0 = self._x0(width)
        block = [bytearray([WHITE]) * self.dots for _ in range(h)]
        x = x0
        for g, bold, t, w, _ in items:
            cw = 24 if w else 12
            for r in range(h):
                src = r // 2 if t else (r if r < 24 else None)
                if src is None:
                    continue
                v = g[src]
                if bold:
                    v |= v >> 1
                for cx in range(cw):
                    if v & (1 << (11 - (cx // 2 if w else cx))):
                        block[r][x + cx] = INK
            x += cw
        self._rows(block)
        self._advance(max(self.pitch, h) - h)
        self.transcript.append("".join(it[4] for it in items).rstrip())

    def _x0(self, width):
        if self.align == 1:
            return max(0, (self.dots - width) // 2)
        if self.align == 2:
            return max(0, self.dots - width)
        return 0

    # --- paper --------------------------------------------------------------------

    def _rows(self, rows):
        for r in rows:
            if self.paper_rows is not None:
                if self.paper_rows <= 0:
                    self.paper_out = True
                    return
                self.paper_rows -= 1
            self.rows.append(r)

    def _advance(self, n):
        self._rows([bytearray([WHITE]) * self.dots for _ in range(n)])

    def _cut(self):
        if self.line:
            self._print_line()
        self.cuts += 1
        self.transcript.append("=" * (self.dots // 12) + " cut")
        self._rows([bytearray([160]) * self.dots])  # the cut as a grey line on the PNG

    def _raster(self, buf):
        self._need(buf, 8)
        if buf[2] not in (0, 0x30):
            self._err("malformed GS v %02X" % buf[2])
            return 3
        m = buf[3] & 3
        xb = buf[4] | buf[5] << 8
        yb = buf[6] | buf[7] << 8
        self._need(buf, 8 + xb * yb)
        data = buf[8:8 + xb * yb]
        sx = 2 if m & 1 else 1
        sy = 2 if m & 2 else 1
        if xb * 8 * sx > self.dots:
            self._err("raster %d dots wide on %d-dot paper" % (xb * 8 * sx, self.dots))
        x0 = self._x0(xb * 8 * sx)
        block = []
        for y in range(yb):
            row = bytearray([WHITE]) * self.dots
            for xbyte in range(xb):
                b = data[y * xb + xbyte]
                if not b:
                    continue
                for bit in range(8):
                    if b & (0x80 >> bit):
                        for k in range(sx):
                            x = x0 + (xbyte * 8 + bit) * sx + k
                            if x < self.dots:
                                row[x] = INK
            block.extend([row] * sy if sy == 1 else [row, bytearray(row)])
        self._rows(block)
        self.transcript.append("[raster %dx%d]" % (xb * 8 * sx, yb * sy))
        return 8 + xb * yb

    def _gs_paren(self, buf):
        self._need(buf, 5)
        if buf[2] != 0x6B:
            self._err("unknown command GS ( %02X" % buf[2])
            return 5 + (buf[3] | buf[4] << 8)
        n = buf[3] | buf[4] << 8
        self._need(buf, 5 + n)
        body = bytes(buf[5:5 + n])
        if n < 2 or body[0] != 0x31:
            self._err("malformed GS ( k: %s" % body[:4].hex())
            return 5 + n
        fn, args = body[1], body[2:]
        q = self.qr
        if fn == 0x41 and len(args) == 2 and args[0] in (0x31, 0x32):
            q["model"] = args[0]
        elif fn == 0x43 and len(args) == 1 and 1 <= args[0] <= 16:
            q["size"] = args[0]
        elif fn == 0x45 and len(args) == 1 and args[0] in _QR_LEVELS:
            q["level"] = _QR_LEVELS[args[0]]
        elif fn == 0x50 and args[:1] == b"\x30":
            q["data"] = args[1:]
        elif fn == 0x51 and args == b"\x30":
            self._qr_print()
        else:
            self._err("malformed GS ( k function %02X %s" % (fn, args[:8].hex()))
        return 5 + n

    def _qr_print(self):
        q = self.qr
        if not q["data"]:
            self._err("QR print with no data stored")
            return
        if q["model"] != 0x32:
            self._err("QR model 1 is not modelled")
        if self.line:
            self._print_line()
        sym = segno.make(q["data"], error=q["level"], boost_error=False, micro=False)
        mat = sym.matrix
        m = q["size"]
        side = len(mat) * m
        x0 = self._x0(side)
        if x0 + side > self.dots:
            self._err("QR %d dots wide on %d-dot paper" % (side, self.dots))
        block = []
        for row in mat:
            line = bytearray([WHITE]) * self.dots
            for i, dark in enumerate(row):
                if dark:
                    for k in range(m):
                        if x0 + i * m + k < self.dots:
                            line[x0 + i * m + k] = INK
            block.extend(bytearray(line) for _ in range(m))
        self._rows(block)
        data = q["data"].decode("latin-1")
        self.qr_codes.append(data)
        self.transcript.append("[QR %s]" % data)

    # --- output -------------------------------------------------------------------

    def image(self, margin=8):
        rows = self.rows or [bytearray([WHITE]) * self.dots]
        img = Image.frombytes("L", (self.dots, len(rows)), b"".join(bytes(r) for r in rows))
        out = Image.new("L", (self.dots + 2 * margin, len(rows) + 2 * margin), WHITE)
        out.paste(img, (margin, margin))
        return out

    def save_png(self, path):
        self.image().convert("1").save(path, optimize=True)


def _named(g):
    # the transcript's letter for a user glyph: the font's letter with the
    # same bitmap, or U+FFFD
    for ch in KAZAKH_UDC:
        if F.glyph(ch) == g:
            return ch
    return "\ufffd"


class Uart:
    # the interpreter as the driver's UART (write, any, read), in one process
    def __init__(self, printer):
        self.printer = printer

    def write(self, b):
        self.printer.feed(bytes(b))
        return len(b)

    def any(self):
        return len(self.printer.out)

    def read(self, n=None):
        out = self.printer.out
        n = len(out) if n is None else min(n, len(out))
        b = bytes(out[:n])
        del out[:n]
        return b


class Link(threading.Thread):
    """The PC board's printer (boards/host/printer.py, LinkedPrinter): what the
    app sends on VAR/printer.in is printed, the answers go back on
    VAR/printer.out, the terminal's paper key arrives on VAR/printer.ctl
    ("out" / "in"). Each document, up to its cut, is appended to
    VAR/paper.txt and drawn as VAR/paper.png; errors go to the transcript."""

    PIPES = ("printer.in", "printer.out", "printer.ctl")

    def __init__(self, var, profile="epson80"):
        threading.Thread.__init__(self, daemon=True)
        self.var = var
        self.printer = Printer(profile)
        fds = []
        for name in self.PIPES:
            path = os.path.join(var, name)
            if not os.path.exists(path):
                os.mkfifo(path)
            fds.append(os.open(path, os.O_RDWR | os.O_NONBLOCK))
        self.fin, self.fout, self.fctl = fds
        self.stopping = False
        self.shown = 0  # transcript lines already in paper.txt
        self.errors = 0

    def run(self):
        p = self.printer
        while not self.stopping:
            ready = select.select([self.fctl, self.fin], [], [], 0.1)[0]
            # the paper key first: it came before the poll that asks about it
            if self.fctl in ready:
                for cmd in os.read(self.fctl, 4096).split():
                    if cmd == b"out":
                        p.take_paper()
                    elif cmd == b"in":
                        p.load_paper()
            if self.fin in ready:
                p.feed(os.read(self.fin, 65536))
            out = p.read()
            if out:
                os.write(self.fout, out)
            self._paper()

    def _paper(self):
        # a finished document to the transcript and the PNG
        p = self.printer
        new = p.transcript[self.shown:]
        bad = p.errors[self.errors:]
        if not new or not new[-1].endswith(" cut"):
            if not bad:
                return
        with open(os.path.join(self.var, "paper.txt"), "a", encoding="utf-8") as f:
            f.write("\n".join(new + ["printer error at byte %d: %s" % e for e in bad]) + "\n\n")
        self.shown = len(p.transcript)
        self.errors = len(p.errors)
        if new:
            p.save_png(os.path.join(self.var, "paper.png"))
            p.rows = []

    def stop(self):
        self.stopping = True
        self.join(1)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("job", help="the bytes sent to the printer")
    ap.add_argument("--profile", default="epson80")
    ap.add_argument("--png", help="write the paper here")
    a = ap.parse_args(argv)
    p = Printer(a.profile)
    with open(a.job, "rb") as f:
        p.feed(f.read())
    print("\n".join(p.transcript))
    if a.png:
        p.save_png(a.png)
    for off, msg in p.errors:
        print("error at byte %d: %s" % (off, msg), file=sys.stderr)
    return 1 if p.errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
