# A barcode scanner on the far end of a UART, as the driver sees it: any()
# and read(n) over the bytes that have arrived by now (10 bits a byte at
# the baud rate), a receive buffer that drops what does not fit, and what
# real scanners send: a code with its suffix, an AIM prefix, noise, a code
# cut off.

from compat import ticks_diff, ticks_ms


class ScannerUart:
    def __init__(self, baud=9600, rxbuf=1024, ticks=ticks_ms):
        self.baud = baud
        self.rxbuf = rxbuf
        self.ticks = ticks
        self.wire = []  # (arrival ms, byte) not yet in the buffer
        self.buf = bytearray()
        self.lost = 0  # bytes dropped: buffer full
        self.free_at = ticks()  # when the line is idle again

    # --- the scanner's side ------------------------------------------------------

    def send(self, data, at=None):
        # bytes on the wire from `at` (default: now, or after what is still on the wire)
        now = self.ticks()
        t = now if at is None else at
        if ticks_diff(self.free_at, t) > 0:
            t = self.free_at
        per_byte = 10000.0 / self.baud  # ms
        for i, b in enumerate(data):
            self.wire.append((t + int((i + 1) * per_byte), b))
        self.free_at = t + int(len(data) * per_byte) + 1

    def scan(self, code, suffix=b"\r\n", aim=b""):
        # one code as the scanner sends it (str codes as ASCII)
        if isinstance(code, str):
            code = code.encode()
        self.send(aim + code + suffix)

    # --- the UART's side ----------------------------------------------------------

    def _arrive(self):
        now = self.ticks()
        n = 0
        for t, b in self.wire:
            if ticks_diff(t, now) > 0:
                break
            if len(self.buf) < self.rxbuf:
                self.buf.append(b)
            else:
                self.lost += 1
            n += 1
        del self.wire[:n]

    def any(self):
        self._arrive()
        return len(self.buf)

    def read(self, n=-1):
        self._arrive()
        if not self.buf:
            return None
        if n < 0 or n > len(self.buf):
            n = len(self.buf)
        out = bytes(self.buf[:n])
        self.buf = self.buf[n:]
        return out

    def write(self, data):
        return len(data)  # scanner commands are not modelled
