# A thermal printer on the other end of the driver's UART, small enough for
# both runtimes: it keeps what it printed, answers DLE EOT n and GS r 1,
# clears on DLE ENQ 2, and runs out of paper after so many lines on demand.
# (The full ESC/POS interpreter, with paper as a PNG, is tools/escpos_interp.py.)


class PrinterDouble:
    def __init__(self, lines_left=None):
        self.printed = bytearray()  # every byte it printed (acted on)
        self.held = bytearray()  # bytes received while stopped
        self.out = bytearray()
        self.lines_left = lines_left  # line feeds before the paper ends (None: endless)
        self.paper_out = False
        self.cover_open = False
        self.silent = False

    # --- the UART the driver sees ---------------------------------------------

    def write(self, b):
        self.held += b
        self._run()
        return len(b)

    def any(self):
        return len(self.out)

    def read(self, n=None):
        n = len(self.out) if n is None else min(n, len(self.out))
        b = bytes(self.out[:n])
        self.out = self.out[n:]
        return b

    # --- the cashier's hands --------------------------------------------------------

    def load_paper(self):
        self.paper_out = False
        self.lines_left = None
        self._run()

    def _status(self, n):
        b = 0x12
        stop = self.paper_out or self.cover_open
        if n == 1 and stop:
            b |= 0x08
        if n == 2:
            b |= (0x04 if self.cover_open else 0) | (0x20 if self.paper_out else 0)
        if n == 4 and self.paper_out:
            b |= 0x60
        return b

    def _run(self):
        h = self.held
        i = 0
        while i + 2 < len(h):  # real-time commands act on arrival
            if h[i] == 0x10 and h[i + 1] == 0x04 and 1 <= h[i + 2] <= 4:
                if not self.silent:
                    self.out.append(self._status(h[i + 2]))
                h = h[:i] + h[i + 3:]
            elif h[i] == 0x10 and h[i + 1] == 0x05 and h[i + 2] == 2:
                h = h[i + 3:]  # cleared
                i = 0
            else:
                i += 1
        i = 0
        while i < len(h) and not (self.paper_out or self.cover_open):
            if h[i:i + 3] == b"\x1dr\x01":
                if not self.silent:
                    self.out.append(0)
                i += 3
                continue
            c = h[i]
            if c == 0x0A and self.lines_left is not None:
                if self.lines_left == 0:
                    self.paper_out = True
                    break
                self.lines_left -= 1
            self.printed.append(c)
            i += 1
        self.held = h[i:]
