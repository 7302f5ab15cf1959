"""A virtual ESP32 for the service-centre tools: MicroPython's unix port on a pseudo-terminal.

    python tools/vboard.py HOME [--heap 8M] [--link PATH]

prints the board's serial port (``/dev/pts/N``) and serves until stopped;
the real ``mpremote connect /dev/pts/N ...`` and ``make deploy PORT=...`` talk to it.
The board keeps its state in HOME: ``flash/`` is its filesystem (mounted at
``/``), ``fjournal.img`` and ``fmemory.img`` its raw NOR partitions,
``device.key`` its device key. tools/vboard_rom.py is what runs on it (the
REPLs, boot.py and main.py, soft and hard reset); this side carries the bytes
between the pseudo-terminal and the interpreter, turns Ctrl-C into SIGINT
while a program runs, starts a new interpreter on every reset and, like a
UART with nobody listening, drops output the port cannot take.
"""

import argparse
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import threading
import tty

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
ROM = os.path.join(ROOT, "tools", "vboard_rom.py")
PARTITIONS = (("fjournal", 64), ("fmemory", 4))  # as boards/host: 256 KB journal, 4 blocks of Z summaries
EXIT_MODE = {10: "raw", 11: "soft", 12: "hard"}  # vboard_rom's exit status -> how the next one starts


OUT_MAX = 1 << 20  # output held for a host that reads slowly


def micropython():
    exe = shutil.which("micropython") or os.path.join(os.path.dirname(sys.executable), "micropython")
    if not os.path.exists(exe):
        raise SystemExit("micropython (the unix port) not found: run `make setup` first")
    return exe


class VirtualBoard:
    def __init__(self, home, heap="8M", partitions=PARTITIONS):
        self.home = os.path.abspath(home)
        self.flash = os.path.join(self.home, "flash")
        self.heap = heap
        self.partitions = partitions
        self.port = None
        self.boots = 0  # interpreters started (power-on, resets)
        self._child = None
        self._busy = True
        self._stop = False
        self._thread = None
        self._out = bytearray()  # bytes for the port the host has not read yet

    def start(self):
        os.makedirs(self.flash, exist_ok=True)
        self._master, self._slave = pty.openpty()
        tty.setraw(self._slave)  # no echo, no line editing: a serial line
        os.set_blocking(self._master, False)
        self.port = os.ttyname(self._slave)
        self._spawn("hard")
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        return self.port

    def stop(self):
        self._stop = True
        if self._thread:
            self._thread.join(5)
        self._kill()
        os.close(self._master)
        os.close(self._slave)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    # --- the interpreter ------------------------------------------------------

    def _spawn(self, how):
        parts = ["%s=%d" % p for p in self.partitions]
        self._child = subprocess.Popen(
            [micropython(), "-X", "heapsize=" + self.heap, ROM, ROOT, self.flash, self.home, how] + parts,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
        for f in (self._child.stdout, self._child.stderr):
            os.set_blocking(f.fileno(), False)
        self._busy = None  # starting: a Ctrl-C now waits for the first program (boot.py, main.py)
        self._interrupt = False
        self._pending = bytearray()  # host bytes the interpreter has not taken yet
        self.boots += 1

    def _kill(self):
        c = self._child
        if c and c.poll() is None:
            c.kill()
            c.wait()

    # --- the serial line --------------------------------------------------------

    def _serve(self):
        cr = False  # the last byte to the port was "\r"
        while not self._stop:
            c = self._child
            rd = [self._master, c.stdout, c.stderr]
            wr = [c.stdin] if self._pending else []
            if self._out:
                wr.append(self._master)
            r, w, _ = select.select(rd, wr, [], 0.1)
            if self._master in r:
                self._from_host()
            if c.stdin in w:
                self._to_child()
            if self._master in w:
                self._flush()
            if c.stderr in r:
                self._state(c.stderr.read() or b"")
            if c.stdout in r:
                data = c.stdout.read()
                if data:
                    cr = self._to_host(data, cr)
                else:
                    self._restart(c.wait())

    def _from_host(self):
        try:
            data = os.read(self._master, 4096)
        except OSError:
            return
        for b in data:
            if b == 3 and self._busy:
                # Ctrl-C interrupts the running program (KeyboardInterrupt)
                os.kill(self._child.pid, signal.SIGINT)
            elif b == 3 and self._busy is None:
                self._interrupt = True
            else:
                self._pending.append(b)

    def _to_child(self):
        try:
            n = os.write(self._child.stdin.fileno(), self._pending)
        except BlockingIOError:
            return
        except BrokenPipeError:
            return  # the interpreter is resetting: the next one takes the bytes
        del self._pending[:n]

    def _state(self, data):
        for b in data:
            if b == ord("B"):
                self._busy = True
                if self._interrupt:
                    os.kill(self._child.pid, signal.SIGINT)
            elif b == ord("I"):
                self._busy = False
            else:
                sys.stderr.write(chr(b))  # the interpreter itself failed
                continue
            self._interrupt = False

    def _to_host(self, data, cr):
        # "\n" goes out as "\r\n", as a chip's stdout does
        out = bytearray()
        for b in data:
            if b == 10 and not cr:
                out.append(13)
            out.append(b)
            cr = b == 13
        if len(self._out) < OUT_MAX:
            self._out += out  # past OUT_MAX nobody reads the port: dropped, as a chip's USB buffer does
        self._flush()
        return cr

    def _flush(self):
        # as much of the output as the port takes now; the rest when it is writable
        try:
            n = os.write(self._master, self._out)
        except BlockingIOError:
            return
        del self._out[:n]

    def _restart(self, code):
        how = EXIT_MODE.get(code)
        if how is None:
            # a crash of the interpreter: the chip's watchdog would reset it
            msg = "\r\nvboard: the interpreter stopped (status %s): reset\r\n" % code
            self._to_host(msg.encode(), True)
            how = "hard"
        pending = self._pending
        self._spawn(how)
        self._pending = pending


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("home", help="the board's folder: flash/ (its filesystem), partition images, device key")
    ap.add_argument("--heap", default="8M", help="MicroPython heap (default 8M, an S3 with PSRAM)")
    ap.add_argument("--link", help="also make this symlink to the port")
    a = ap.parse_args(argv)
    board = VirtualBoard(a.home, a.heap)
    port = board.start()
    if a.link:
        if os.path.islink(a.link):
            os.remove(a.link)
        os.symlink(port, a.link)
    print("vboard: port %s, flash in %s (Ctrl-C stops)" % (port, board.flash), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        board.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
