# The SSD1306 (or SH1106) OLED controller as an I2C target: control bytes
# (Co, D/C), the command set with its arguments, GDDRAM written in page,
# horizontal or vertical addressing mode (the SH1106: page mode only, 132
# columns). It renders what the panel shows: pixels, a PNG (Pillow, on the
# host) and text read back cell by cell against a 6x8 font.

_SSD1306_ONLY = (0x8D, 0x20, 0x21, 0x22)  # charge pump, addressing modes
_SH1106_ONLY = (0xAD,)  # DC-DC
_NO_EFFECT = (0xA0, 0xA1, 0xA4, 0xA5, 0xC0, 0xC8, 0xE3, 0x2E, 0x2F)
_ARGS = {0x81: 1, 0x8D: 1, 0x20: 1, 0x21: 2, 0x22: 2, 0xA8: 1, 0xD3: 1, 0xD5: 1, 0xD9: 1, 0xDA: 1, 0xDB: 1,
         0xAD: 1, 0xA3: 2, 0x26: 6, 0x27: 6, 0x29: 5, 0x2A: 5}


class SSD1306Chip:
    def __init__(self, kind="ssd1306", width=128, pages=8):
        self.kind = kind
        self.ram_w = 132 if kind == "sh1106" else width
        self.offset = 2 if kind == "sh1106" else 0  # first RAM column on the panel
        self.width = width
        self.pages = pages
        self.ram = bytearray(self.ram_w * pages)
        self.mode = 2  # page addressing after reset
        self.col = 0
        self.page = 0
        self.cols = (0, width - 1)
        self.page_range = (0, pages - 1)
        self.on = False
        self.inverted = False
        self.contrast = 0x7F
        self.charge_pump = False
        self.unknown = []  # commands this controller does not have
        self._ctl = None  # the control byte in force within a transfer
        self._cmd = []  # a command waiting for its arguments

    # --- the bus -------------------------------------------------------------------

    def start(self):
        self._ctl = None

    def stop(self):
        self._ctl = None

    def read(self, n):
        return bytes(n)  # status reads are not used

    def write(self, data):
        for b in data:
            if self._ctl is None:
                self._ctl = b
                continue
            if self._ctl & 0x40:
                self._data(b)
            else:
                self._command_byte(b)
            if self._ctl & 0x80:  # Co = 1: one byte, then a control byte again
                self._ctl = None

    # --- commands -------------------------------------------------------------------

    def _command_byte(self, b):
        self._cmd.append(b)
        need = _ARGS.get(self._cmd[0], 0)
        if len(self._cmd) > need:
            cmd = self._cmd
            self._cmd = []
            self._run(cmd[0], cmd[1:])

    def _run(self, c, a):
        sh = self.kind == "sh1106"
        if c in (_SSD1306_ONLY if sh else _SH1106_ONLY):
            self.unknown.append(c)  # the other controller's command
        elif c in (0xAE, 0xAF):
            self.on = c == 0xAF
        elif c in (0xA6, 0xA7):
            self.inverted = c == 0xA7
        elif c == 0x81:
            self.contrast = a[0]
        elif c == 0x8D:
            self.charge_pump = bool(a[0] & 0x04)
        elif c == 0xAD:
            self.charge_pump = bool(a[0] & 0x01)
        elif c == 0x20:
            self.mode = a[0] & 3
        elif c == 0x21:
            self.cols = (a[0] & 0x7F, a[1] & 0x7F)
            self.col = self.cols[0]
        elif c == 0x22:
            self.page_range = (a[0] & 7, a[1] & 7)
            self.page = self.page_range[0]
        elif 0xB0 <= c <= 0xB7:
            self.page = c & 7
        elif c <= 0x0F:
            self.col = (self.col & 0xF0) | c
        elif 0x10 <= c <= 0x1F:
            self.col = (self.col & 0x0F) | ((c & 0x0F) << 4)
        elif not (c in _ARGS or 0x40 <= c <= 0x7F or c in _NO_EFFECT):
            self.unknown.append(c)
        # start line, remaps, multiplex, timing, scrolling: no effect on the picture here

    def _data(self, b):
        if self.col < self.ram_w:
            self.ram[self.page * self.ram_w + self.col] = b
        if self.mode == 2:  # page: along the page; the SH1106 runs on to the RAM's end
            self.col += 1
            if self.kind != "sh1106" and self.col > self.cols[1]:
                self.col = self.cols[0]
        elif self.mode == 0:  # horizontal: along the columns, then the next page
            self.col += 1
            if self.col > self.cols[1]:
                self.col = self.cols[0]
                self.page = self.page + 1 if self.page < self.page_range[1] else self.page_range[0]
        else:  # vertical: down the pages, then the next column
            self.page += 1
            if self.page > self.page_range[1]:
                self.page = self.page_range[0]
                self.col = self.col + 1 if self.col < self.cols[1] else self.cols[0]

    # --- the panel ---------------------------------------------------------------------

    def pixel(self, x, y):
        if not self.on:
            return 0
        v = self.ram[(y >> 3) * self.ram_w + self.offset + x] >> (y & 7) & 1
        return v ^ 1 if self.inverted else v

    def cell(self, col, row, w=6):
        # the 6 column bytes of a text cell as the panel shows them
        return bytes(sum(self.pixel(col * w + i, row * 8 + y) << y for y in range(8)) for i in range(w))

    def text(self, glyphs, w=6):
        # rows of text read back: glyphs {6 column bytes: character}; an
        # inverted cell (the status strip) is read as its inverse
        out = []
        for r in range(self.pages):
            s = ""
            for c in range(self.width // w):
                g = self.cell(c, r, w)
                ch = glyphs.get(g)
                if ch is None:
                    ch = glyphs.get(bytes(b ^ 0xFF for b in g), "\ufffd")
                s += ch
            out.append(s)
        return out

    def png(self, path, scale=4):
        from PIL import Image  # host only

        im = Image.new("L", (self.width * scale, self.pages * 8 * scale), 0)
        px = im.load()
        for y in range(self.pages * 8):
            for x in range(self.width):
                if self.pixel(x, y):
                    for dy in range(scale):
                        for dx in range(scale):
                            px[x * scale + dx, y * scale + dy] = 255
        im.save(path)
        return im
