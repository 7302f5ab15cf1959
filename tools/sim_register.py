"""A scripted driver of `make sim`: the register app on the PC board under a
pseudo-terminal (tools/sim.py: the OFD simulator in process, the app under
the MicroPython unix port), key presses in, display frames and the paper
transcript out.

    python tools/sim_register.py --var var/drive script.txt

Script lines (``#`` starts a comment):
    keys 1 ENT 1234 ENT        key names (ui.keys); a number stands for its digits
    scan 4870001000011         a code from the scanner
    expect Готов               wait until the display shows this text (10 s)
    fault refuse [k=v ...]     a fault of the OFD simulator (tools/ofdsim/faults.py); fault clear
The frames shown and the paper printed go to stdout.
"""

import argparse
import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
for _p in (os.path.join(ROOT, "firmware"), ROOT):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from ui import keys as K  # noqa: E402

FRAME = re.compile(r"\x1b7(.*?)\x1b8", re.S)  # boards/host/term.py draws a frame between these
ROW = re.compile(r"\x1b\[\d+;1H\|(.*?)\|")


class Sim:
    """tools/sim.py on a pseudo-terminal."""

    def __init__(self, var, *args):
        self.var = os.path.abspath(var)
        m, s = pty.openpty()
        fcntl.ioctl(s, termios.TIOCSWINSZ, struct.pack("HHHH", 60, 120, 0, 0))
        self.proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "tools", "sim.py"), "--var", self.var]
                                     + list(args), stdin=s, stdout=s, stderr=s, close_fds=True,
                                     start_new_session=True, cwd=ROOT)
        os.close(s)
        self.fd = m
        self.out = ""
        self.raw = b""
        self.seen = 0  # frames already returned by new_frames()
        self.until(lambda: self.frames(), 30)
        m = re.search(r"admin (http://[\d.:]+)/admin", self.out)
        self.admin = m.group(1) if m else None

    # --- output ----------------------------------------------------------------

    def read(self, seconds=0.0):
        end = time.monotonic() + seconds
        while True:
            r, _, _ = select.select([self.fd], [], [], max(0.0, min(0.05, end - time.monotonic())))
            if r:
                try:
                    self.raw += os.read(self.fd, 65536)
                except OSError:  # the app has gone
                    break
                continue
            if time.monotonic() >= end:
                break
        # keep the bytes of an unfinished UTF-8 character for the next read
        text = self.raw.decode("utf-8", "ignore")
        if len(text.encode()) == len(self.raw):
            self.out += text
            self.raw = b""

    def frames(self):
        return [ROW.findall(f) for f in FRAME.findall(self.out)]

    def frame(self):
        f = self.frames()
        return f[-1] if f else None

    def screen(self):
        return "\n".join(self.frame() or [])

    def text(self):
        # what the terminal showed below the display (paper, prompts), frames taken out
        return FRAME.sub("", self.out)

    def until(self, cond, timeout=10.0):
        end = time.monotonic() + timeout
        while True:
            self.read(0.02)
            if cond():
                return True
            if time.monotonic() > end or self.proc.poll() is not None:
                self.read(0.2)
                raise AssertionError("timed out; display:\n%s\nterminal:\n%s" % (self.screen(), self.text()[-3000:]))

    def shows(self, text, timeout=10.0):
        # wait until the display shows the text -> the frame
        self.until(lambda: text in self.screen(), timeout)
        return self.frame()

    def paper(self):
        try:
            with open(os.path.join(self.var, "paper.txt"), encoding="utf-8") as f:
                return f.read()
        except OSError:
            return ""

    def printed(self, text, timeout=10.0):
        # the paper once it shows text: the printer confirms a job a moment
        # after the display says the document is done
        self.until(lambda: text in self.paper(), timeout)
        return self.paper()

    # --- input -------------------------------------------------------------------

    def press(self, *names):
        # key names, or numbers typed digit by digit
        for n in names:
            if n in K.KEYS:
                self.type(K.terminal_char(n))
            else:
                for ch in n:
                    self.type(K.terminal_char(ch) or ch)

    def type(self, chars):
        os.write(self.fd, chars.encode())
        if chars == "\x1b":
            time.sleep(0.06)  # a lone ESC is told from an escape sequence by the pause after it
        self.read(0.01)

    def latency(self, name):
        # seconds from a key press to the next frame on the terminal
        n = len(self.frames())
        t = time.monotonic()
        self.press(name)
        self.until(lambda: len(self.frames()) > n, 5)
        return time.monotonic() - t

    def scan(self, code):
        self.type("s" + code + "\r")

    def pipe(self, code):
        # the scanner's named pipe
        with open(os.path.join(self.var, "scanner"), "w") as f:
            f.write(code + "\n")

    # --- the OFD simulator -----------------------------------------------------------

    def ofd(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.admin + path, data, {"Content-Type": "application/json"}, method=method)
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.loads(r.read() or b"null")

    def fault(self, kind, **spec):
        spec["kind"] = kind
        return self.ofd("POST", "/admin/faults", spec)

    def clear_faults(self):
        return self.ofd("DELETE", "/admin/faults")

    def close(self):
        # Ctrl-C: the app stops, the launcher saves nothing more and stops the simulator
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.read(0.1)
        os.close(self.fd)


def run(sim, lines, out):
    shown = 0
    for line in lines:
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        cmd, rest = words[0], words[1:]
        if cmd == "keys":
            sim.press(*rest)
        elif cmd == "scan":
            sim.scan(" ".join(rest))
        elif cmd == "expect":
            sim.shows(" ".join(rest))
        elif cmd == "fault" and rest == ["clear"]:
            sim.clear_faults()
        elif cmd == "fault":
            sim.fault(rest[0], **dict(kv.split("=", 1) for kv in rest[1:]))
        else:
            raise SystemExit("unknown script line: %s" % line.strip())
        sim.read(0.3)
        frames = sim.frames()
        for f in frames[shown:]:
            out.write("\n".join("|%s|" % s for s in f) + "\n\n")
        shown = len(frames)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("script", help="script file")
    ap.add_argument("--var", default=os.path.join(ROOT, "var", "drive"), help="state directory")
    ap.add_argument("args", nargs="*", help="more arguments of tools/sim.py (after --)")
    a = ap.parse_args(argv)
    sim = Sim(a.var, *a.args)
    try:
        with open(a.script, encoding="utf-8") as f:
            run(sim, f.readlines(), sys.stdout)
    finally:
        sim.close()
    sys.stdout.write(sim.paper())
    return 0


if __name__ == "__main__":
    sys.exit(main())
