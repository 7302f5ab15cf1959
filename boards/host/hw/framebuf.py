# framebuf for CPython (the MicroPython unix port has its own): the part
# the display driver uses, MONO_VLSB only (a byte = 8 pixels down a column).

MONO_VLSB = 0


class FrameBuffer:
    def __init__(self, buf, width, height, fmt, stride=None):
        if fmt != MONO_VLSB:
            raise ValueError("only MONO_VLSB on the host")
        self.buf = buf
        self.width = width
        self.height = height

    def pixel(self, x, y, c=None):
        if not (0 <= x < self.width and 0 <= y < self.height):
            return None
        i = (y >> 3) * self.width + x
        bit = 1 << (y & 7)
        if c is None:
            return 1 if self.buf[i] & bit else 0
        if c:
            self.buf[i] |= bit
        else:
            self.buf[i] &= ~bit & 0xFF
        return None

    def fill_rect(self, x, y, w, h, c):
        for yy in range(max(0, y), min(self.height, y + h)):
            for xx in range(max(0, x), min(self.width, x + w)):
                self.pixel(xx, yy, c)

    def fill(self, c):
        v = 0xFF if c else 0
        for i in range(len(self.buf)):
            self.buf[i] = v
