# Compact encoding of the register's own records (documents, counters,
# catalogue entries): unsigned LEB128 varints; strings as length + UTF-8;
# optional strings as 0 (absent) or length + 1 followed by the bytes.

from compat import is_int


class Writer:
    def __init__(self):
        self.buf = bytearray()

    def uint(self, v):
        if not is_int(v) or v < 0:
            raise ValueError(v)
        while v >= 0x80:
            self.buf.append((v & 0x7F) | 0x80)
            v >>= 7
        self.buf.append(v)

    def text(self, s):
        b = s.encode()
        self.uint(len(b))
        self.buf.extend(b)

    def opt(self, s):
        if s is None:
            self.uint(0)
        else:
            b = s.encode()
            self.uint(len(b) + 1)
            self.buf.extend(b)

    def done(self):
        return bytes(self.buf)


class Reader:
    def __init__(self, b):
        self.b = b
        self.i = 0

    def uint(self):
        v = 0
        shift = 0
        while True:
            c = self.b[self.i]
            self.i += 1
            v |= (c & 0x7F) << shift
            if c < 0x80:
                return v
            shift += 7
            if shift > 70:
                raise ValueError

    def count(self, limit):
        n = self.uint()
        if n > limit:
            raise ValueError
        return n

    def _bytes(self, n):
        if self.i + n > len(self.b):
            raise ValueError
        s = bytes(self.b[self.i:self.i + n]).decode()
        self.i += n
        return s

    def text(self):
        return self._bytes(self.uint())

    def opt(self):
        n = self.uint()
        if n == 0:
            return None
        return self._bytes(n - 1)

    def end(self):
        if self.i != len(self.b):
            raise ValueError
