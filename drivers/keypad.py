# Matrix keypad: rows are open-drain outputs (released = high), columns
# inputs with pull-ups; a row pulled low shows its pressed keys as low
# columns. Scanned every scan_ms by get() (the app's input task awaits it).
#
# Debounce: a change of the keys down counts once it has held for settle_ms.
# Ghost keys: without a diode per key, three keys on the corners of a
# rectangle make the fourth read as pressed; so a key is taken only while it
# is the one key down (a register is used one key at a time). A key pressed
# while another is held is taken when the other is let go (rollover).
# Holding a key does not repeat it.

from aio import sleep_ms
from compat import const, ticks_diff, ticks_ms

SCAN_MS = const(10)
SETTLE_MS = const(30)
QUEUE = const(16)  # keys not taken yet; more are dropped


class Keypad:
    def __init__(self, rows, cols, keymap, scan_ms=SCAN_MS, settle_ms=SETTLE_MS, ticks=ticks_ms):
        # rows, cols: machine.Pin objects (OPEN_DRAIN value 1 / IN PULL_UP);
        # keymap[r][c]: the key name (ui.keys PAD for the register's keypad)
        self.rows = rows
        self.cols = cols
        self.keymap = keymap
        self.scan_ms = scan_ms
        self.settle_ms = settle_ms
        self.ticks = ticks
        self.seen = ()  # the keys down at the last scan
        self.since = ticks()  # since when `seen` has not changed
        self.stable = ()  # the debounced keys down
        self.held = None  # the key taken and not let go yet
        self.keys = []  # key names taken, oldest first
        for r in rows:
            r(1)

    def scan(self):
        # -> the (row, column) pairs that read as pressed, in scan order
        down = []
        for i, r in enumerate(self.rows):
            r(0)
            for j, c in enumerate(self.cols):
                if not c():
                    down.append((i, j))
            r(1)
        return tuple(down)

    def step(self, now=None):
        now = self.ticks() if now is None else now
        down = self.scan()
        if down != self.seen:
            self.seen = down
            self.since = now
            return
        if down == self.stable or ticks_diff(now, self.since) < self.settle_ms:
            return
        self.stable = down
        if not down:
            self.held = None
        elif len(down) == 1 and down[0] != self.held:
            self.held = down[0]
            if len(self.keys) < QUEUE:
                r, c = down[0]
                self.keys.append(self.keymap[r][c])

    async def get(self):
        while not self.keys:
            self.step()
            if not self.keys:
                await sleep_ms(self.scan_ms)
        return self.keys.pop(0)
