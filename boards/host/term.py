# The PC terminal as the register's keypad, display and scanner.
#
# Screen: the display in a frame at the top, redrawn in place (ANSI cursor
# moves) only when a line changed; below it a scrolling region for the
# printer's paper, the key legend and the scan prompt.
# Keyboard: stdin in cbreak mode (the launcher sets it up), read without
# blocking by polling; typed characters become key names by ui.keys'
# terminal table, arrows and F1 by ESCAPES. Board keys that are no register
# keys: "s" asks for a scanned code (typed, Ctrl-] is the GS separator of a
# marking code), "?" prints the legend, "P" takes the paper out or puts it in.
# Scanner: codes from the scan prompt and from a named pipe, one a line.

import select
import sys

from compat import ticks_diff, ticks_ms

try:
    from asyncio import sleep_ms
except ImportError:  # CPython
    import asyncio

    def sleep_ms(ms):
        return asyncio.sleep(ms / 1000)

POLL_MS = 10  # how often the keyboard is read: well inside the 50 ms key-to-display budget
BURST = 64  # bytes read per poll at most
ESC_MS = 40  # a lone ESC: no sequence byte followed within this time
# escape sequences of the keys the register uses (xterm, both cursor modes)
ESCAPES = ((b"\x1b[A", "UP"), (b"\x1bOA", "UP"), (b"\x1b[B", "DOWN"), (b"\x1bOB", "DOWN"),
           (b"\x1bOP", "MENU"), (b"\x1b[11~", "MENU"))
SCAN_KEY = "s"
LEGEND_KEY = "?"
PAPER_KEY = "P"
GS = 0x1D


def _raw(stream):
    # the unbuffered file under a stream: poll must see every byte unread
    b = getattr(stream, "buffer", stream)
    return getattr(b, "raw", b)


def _fifo(path):
    # read-write, so opening does not wait for a writer and EOF never comes
    f = open(path, "r+b", buffering=0)
    return getattr(f, "raw", f)


class Terminal:
    def __init__(self, keys, cols, rows, inp=None, out=None, fifo=None):
        self.keys = keys  # the module ui.keys: from_terminal(ch), legend(lang)
        self.cols = cols
        self.rows = rows
        self.inp = _raw(inp or sys.stdin)
        self.out = out or sys.stdout
        self.pipe = _fifo(fifo) if fifo else None
        self.poll = select.poll()
        self.poll.register(self.inp, select.POLLIN)
        if self.pipe is not None:
            self.poll.register(self.pipe, select.POLLIN)
        self.pending = b""  # keyboard bytes not decoded yet
        self.esc_t = 0  # when the pending ESC came
        self.piped = b""  # the scanner pipe's unfinished line
        self.entry = None  # the scan prompt's text while it is open
        self.pressed = []  # key names not taken yet
        self.scanned = []  # codes not taken yet
        self.printer = None  # the paper key toggles its state
        self.lang = "ru"
        self.frame = None
        self.top = rows + 4  # first line of the scrolling region

    # --- screen ----------------------------------------------------------------

    def start(self, title):
        # clear, title line, empty frame, scrolling region below it
        self._put("\x1b[2J\x1b[1;1H" + title + "\x1b[%dr\x1b[%d;1H" % (self.top, self.top))
        self.show([""] * self.rows)

    def stop(self):
        self._put("\x1b[r\x1b[999;1H\n")

    def show(self, lines):
        if len(lines) != self.rows:
            raise ValueError("display: %d lines, %d rows" % (len(lines), self.rows))
        for s in lines:
            if len(s) > self.cols:
                raise ValueError("display: %r longer than %d" % (s, self.cols))
        if lines == self.frame:
            return
        self.frame = list(lines)
        # the whole frame between save and restore cursor: one piece to read back
        edge = "-" * self.cols
        parts = ["\x1b7\x1b[2;1H+", edge, "+"]
        for i, s in enumerate(lines):
            parts.append("\x1b[%d;1H|%s%s|" % (3 + i, s, " " * (self.cols - len(s))))
        parts.append("\x1b[%d;1H+%s+\x1b8" % (3 + self.rows, edge))
        self._put("".join(parts))

    def say(self, text):
        # a line (or lines) in the scrolling region
        self._put(text.replace("\n", "\r\n") + "\r\n")

    def legend(self):
        lines = ["keys (terminal -> register):"]
        lines.extend(self.keys.legend(self.lang))
        lines.append("also: arrows UP/DOWN, F1 MENU; %s scan a code (Ctrl-] is GS), %s paper out/in, %s this legend, "
                     "Ctrl-C quit" % (SCAN_KEY, PAPER_KEY, LEGEND_KEY))
        self.say("\n".join(lines))

    def _put(self, s):
        out = self.out
        out.write(s)
        if hasattr(out, "flush"):
            out.flush()

    # --- input -------------------------------------------------------------------

    def pump(self):
        # read what is there without waiting (a burst at most: the loop goes
        # on); decode keys and scanned codes
        for _ in range(BURST):
            ready = self.poll.poll(0)
            if not ready:
                break
            for obj, ev in ready:
                if self.pipe is not None and (obj is self.pipe or obj == self.pipe.fileno()):  # CPython: the fd
                    self._piped(self.pipe.read(1))
                    continue
                try:
                    b = self.inp.read(1)
                except OSError:  # EIO: the terminal was closed
                    b = b""
                if not b:
                    raise SystemExit(0)  # the terminal is gone: the app ends
                if not self.pending:
                    self.esc_t = ticks_ms()
                self.pending += b
        self._decode()

    def _piped(self, b):
        if b == b"\n":
            code = self.piped.rstrip(b"\r")
            self.piped = b""
            if code:
                self.scanned.append(code.decode())
        elif b:
            self.piped += b

    def _decode(self):
        while self.pending:
            p = self.pending
            if p[0] == 0x1B:
                n = self._escape(p)
                if n == 0:
                    if ticks_diff(ticks_ms(), self.esc_t) < ESC_MS:
                        return  # the rest of a sequence may still come
                    if len(p) > 1 and p[1] in b"[O":
                        n = len(p)  # a broken sequence: dropped
                    else:
                        n = 1
                        self._key("\x1b")  # a lone ESC
                self.pending = p[n:]
                self.esc_t = ticks_ms()
                continue
            self.pending = p[1:]
            self._key(chr(p[0]) if p[0] < 0x80 else "")

    def _escape(self, p):
        # -> bytes of a whole sequence taken (a known key handed on), or 0
        for seq, key in ESCAPES:
            if p[:len(seq)] == seq:
                if self.entry is None:
                    self.pressed.append(key)
                return len(seq)
        if len(p) > 2 and p[1] in b"[O":
            for j in range(2, len(p)):
                if 0x40 <= p[j] <= 0x7E:
                    return j + 1  # a key the register does not use
        return 0

    def _key(self, ch):
        if self.entry is not None:
            self._scan_entry(ch)
        elif ch == SCAN_KEY:
            self.entry = ""
            self._prompt()
        elif ch == LEGEND_KEY:
            self.legend()
        elif ch == PAPER_KEY and self.printer is not None:
            pr = self.printer
            pr.state = "no_paper" if pr.state == "ok" else "ok"
            self.say("printer: %s" % pr.state)
        else:
            k = self.keys.from_terminal(ch)
            if k is not None:
                self.pressed.append(k)

    def _scan_entry(self, ch):
        if ch in ("\r", "\n"):
            code, self.entry = self.entry, None
            self._put("\r\n")
            if code:
                self.scanned.append(code)
            return
        if ch == "\x1b":
            self.entry = None
            self._put("\r\x1b[Kscan cancelled\r\n")
            return
        if ch in ("\x7f", "\x08"):
            self.entry = self.entry[:-1]
        elif ch == chr(GS) or " " <= ch <= "~":
            self.entry += ch
        self._prompt()

    def _prompt(self):
        self._put("\r\x1b[Kscan> " + self.entry.replace(chr(GS), "<GS>"))

    async def key(self):
        while not self.pressed:
            self.pump()
            if not self.pressed:
                await sleep_ms(POLL_MS)
        return self.pressed.pop(0)

    async def code(self):
        while not self.scanned:
            self.pump()
            if not self.scanned:
                await sleep_ms(POLL_MS)
        return self.scanned.pop(0)


class Keypad:
    def __init__(self, term):
        self.term = term

    def get(self):
        return self.term.key()


class Scanner:
    def __init__(self, term):
        self.term = term

    def get(self):
        return self.term.code()


class Display:
    def __init__(self, term):
        self.term = term
        self.cols = term.cols
        self.rows = term.rows

    def show(self, lines):
        self.term.show(lines)
