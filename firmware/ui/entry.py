# The number the cashier types: digits, "00" and one point, at most MAX
# characters; read as money (tiyn), a quantity (thousandths) or a whole
# number. A reading that fails raises ValueError (the UI says "bad entry"
# and keeps the digits for correction).

from kkm import money
from ui import keys as K

MAX = 20


class Entry:
    def __init__(self):
        self.s = ""

    def key(self, k):
        # -> False when the key does not fit (too long, a second point)
        s = self.s
        if k == K.POINT:
            if K.POINT in s or len(s) >= MAX:
                return False
            self.s = (s or "0") + K.POINT
            return True
        if len(s) + len(k) > MAX:
            return False
        self.s = s + k
        return True

    def clear(self):
        self.s = ""

    def take(self):
        s = self.s
        self.s = ""
        return s

    def money(self):
        # tiyn > 0: "150", "150.5" -> 15050
        v = money.parse(self.s)
        if v <= 0:
            raise ValueError(self.s)
        self.s = ""
        return v

    def qty(self):
        # thousandths > 0: "2" -> 2000, "0.350" -> 350 (at most 3 decimals)
        whole, _, frac = self.s.partition(K.POINT)
        if not (whole or frac) or len(frac) > 3 or len(whole) > 5:
            raise ValueError(self.s)
        v = int(whole or "0") * 1000 + int((frac + "000")[:3])
        if v <= 0:
            raise ValueError(self.s)
        self.s = ""
        return v

    def number(self):
        s = self.s
        if not s or K.POINT in s:
            raise ValueError(s)
        self.s = ""
        return int(s)
