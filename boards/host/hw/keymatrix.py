# A key matrix behind the host's Pin stand-in: keys pressed by the test,
# each a contact between a row and a column wire, bouncing for a while
# after it moves. A column reads low when it is connected, through closed
# contacts, to a row the driver pulls low; without diodes the current runs
# both ways through a contact (ghost keys), with a diode per key only from
# the column to its own row.

import machine
from compat import ticks_diff, ticks_ms


class KeyMatrix:
    def __init__(self, row_ids, col_ids, ticks=ticks_ms, diodes=False):
        self.rows = list(row_ids)
        self.cols = list(col_ids)
        self.ticks = ticks
        self.diodes = diodes
        self.down = {}  # (r, c) -> True while pressed
        self.moving = {}  # (r, c) -> ms until which the contact bounces
        for c in self.cols:
            machine.wire(c, self.level)

    def press(self, r, c, bounce_ms=5):
        self.down[(r, c)] = True
        self.moving[(r, c)] = self.ticks() + bounce_ms

    def release(self, r, c, bounce_ms=5):
        self.down.pop((r, c), None)
        self.moving[(r, c)] = self.ticks() + bounce_ms

    def _closed(self):
        # the contacts closed now; a bouncing one chatters every millisecond
        now = self.ticks()
        out = []
        for rc in set(self.down) | set(self.moving):
            until = self.moving.get(rc)
            if until is not None and ticks_diff(until, now) > 0:
                if (now // 3) % 2 == 0:
                    out.append(rc)
            elif rc in self.down:
                out.append(rc)
        return out

    def level(self, pin_id):
        c = self.cols.index(pin_id)
        low_rows = [i for i, r in enumerate(self.rows) if machine.levels.get(r) == 0]
        closed = self._closed()
        if self.diodes:
            return 0 if any((r, c) in closed for r in low_rows) else None
        # wires connected through closed contacts: rows ("r", i), columns ("c", j)
        seen = {("c", c)}
        todo = [("c", c)]
        while todo:
            kind, k = todo.pop()
            for r, cc in closed:
                for a, b in ((("r", r), ("c", cc)), (("c", cc), ("r", r))):
                    if a == (kind, k) and b not in seen:
                        seen.add(b)
                        todo.append(b)
        return 0 if any(("r", r) in seen for r in low_rows) else None
