# QR code model 2 (ISO/IEC 18004), byte mode, error correction level M,
# versions 1..10 (up to 213 bytes: the receipt URL of KZ-35 needs about
# 100): the matrix for a printer without GS ( k, which gets it as a raster
# image (drivers/escpos.py). async: it yields to the loop between steps.

from aio import sleep_ms
from drivers.escpos import QR_CAPACITY_M as CAPACITY

# per version: EC codewords per block, (blocks, data codewords) of group 1
# and group 2 (level M)
_BLOCKS = ((10, 1, 16, 0, 0), (16, 1, 28, 0, 0), (26, 1, 44, 0, 0), (18, 2, 32, 0, 0), (24, 2, 43, 0, 0),
           (16, 4, 27, 0, 0), (18, 4, 31, 0, 0), (22, 2, 38, 2, 39), (22, 3, 36, 2, 37), (26, 4, 43, 1, 44))
# alignment pattern centres per version
_ALIGN = ((), (6, 18), (6, 22), (6, 26), (6, 30), (6, 34), (6, 22, 38), (6, 24, 42), (6, 26, 46), (6, 28, 50))

_EXP = bytearray(512)
_LOG = bytearray(256)


def _tables():
    x = 1
    for i in range(255):
        _EXP[i] = x
        _LOG[x] = i
        x <<= 1
        if x & 0x100:
            x ^= 0x11D
    for i in range(255, 512):
        _EXP[i] = _EXP[i - 255]


_tables()


def _mul(a, b):
    return _EXP[_LOG[a] + _LOG[b]] if a and b else 0


def _generator(n):
    # the monic Reed-Solomon generator of degree n, highest power first
    g = bytearray(b"\x01")
    for i in range(n):
        ng = bytearray(len(g) + 1)
        for j in range(len(g)):
            ng[j] ^= g[j]
            ng[j + 1] ^= _mul(g[j], _EXP[i])
        g = ng
    return g


def _ec(block, gen):
    n = len(gen) - 1
    rem = bytearray(n)
    for d in block:
        f = d ^ rem[0]
        rem[:-1] = rem[1:]
        rem[-1] = 0
        if f:
            for j in range(n):
                rem[j] ^= _mul(gen[j + 1], f)
    return rem


def version(n):
    # the smallest version that holds n bytes, or None
    for v in range(len(CAPACITY)):
        if n <= CAPACITY[v]:
            return v + 1
    return None


def _codewords(data, v):
    ecn, b1, d1, b2, d2 = _BLOCKS[v - 1]
    total = b1 * d1 + b2 * d2
    buf = bytearray(total)
    pos = 0  # bit position

    def put(val, nbits):
        nonlocal pos
        for i in range(nbits - 1, -1, -1):
            if val >> i & 1:
                buf[pos >> 3] |= 0x80 >> (pos & 7)
            pos += 1

    put(4, 4)  # byte mode
    put(len(data), 8 if v < 10 else 16)
    for b in data:
        put(b, 8)
    pos = min(pos + 4, total * 8)  # terminator
    at = (pos + 7) >> 3
    pad = 0xEC
    while at < total:
        buf[at] = pad
        pad ^= 0xEC ^ 0x11
        at += 1
    gen = _generator(ecn)
    blocks = []
    ecs = []
    at = 0
    for n in [d1] * b1 + [d2] * b2:
        blocks.append(buf[at:at + n])
        ecs.append(_ec(blocks[-1], gen))
        at += n
    out = bytearray()
    for i in range(max(d1, d2)):
        for b in blocks:
            if i < len(b):
                out.append(b[i])
    for i in range(ecn):
        for e in ecs:
            out.append(e[i])
    return out


class Matrix:
    # size x size modules, dark = 1; func marks the function patterns
    def __init__(self, v):
        self.v = v
        self.size = n = 17 + 4 * v
        self.dark = bytearray(n * n)
        self.func = bytearray(n * n)

    def set(self, x, y, d):
        i = y * self.size + x
        self.dark[i] = 1 if d else 0
        self.func[i] = 1

    def get(self, x, y):
        return self.dark[y * self.size + x]


def _patterns(m):
    n = m.size
    for i in range(n):
        m.set(6, i, i % 2 == 0)  # timing
        m.set(i, 6, i % 2 == 0)
    for cx, cy in ((3, 3), (n - 4, 3), (3, n - 4)):  # finders with their separators
        for dy in range(-4, 5):
            for dx in range(-4, 5):
                x, y = cx + dx, cy + dy
                if 0 <= x < n and 0 <= y < n:
                    dist = max(abs(dx), abs(dy))
                    m.set(x, y, dist != 2 and dist != 4)
    al = _ALIGN[m.v - 1]
    last = len(al) - 1
    for i in range(len(al)):
        for j in range(len(al)):
            if (i == 0 and j == 0) or (i == 0 and j == last) or (i == last and j == 0):
                continue  # on a finder
            for dy in range(-2, 3):
                for dx in range(-2, 3):
                    m.set(al[i] + dx, al[j] + dy, max(abs(dx), abs(dy)) != 1)
    _format(m, 0)  # reserved now, written with the mask
    if m.v >= 7:
        rem = m.v
        for _ in range(12):
            rem = (rem << 1) ^ ((rem >> 11) * 0x1F25)
        bits = m.v << 12 | rem
        for i in range(18):
            d = bits >> i & 1
            a = n - 11 + i % 3
            b = i // 3
            m.set(a, b, d)
            m.set(b, a, d)


def format_bits(mask):
    # level M (00) and the mask, BCH(15,5), XOR 0x5412
    rem = mask
    for _ in range(10):
        rem = (rem << 1) ^ ((rem >> 9) * 0x537)
    return (mask << 10 | rem) ^ 0x5412


def _format(m, mask):
    # the format bits in both copies
    bits = format_bits(mask)
    n = m.size
    for i in range(6):
        m.set(8, i, bits >> i & 1)
    m.set(8, 7, bits >> 6 & 1)
    m.set(8, 8, bits >> 7 & 1)
    m.set(7, 8, bits >> 8 & 1)
    for i in range(9, 15):
        m.set(14 - i, 8, bits >> i & 1)
    for i in range(8):
        m.set(n - 1 - i, 8, bits >> i & 1)
    for i in range(8, 15):
        m.set(8, n - 15 + i, bits >> i & 1)
    m.set(8, n - 8, 1)  # the dark module


def _place(m, cw):
    # the codewords in the two-column zigzag from the bottom right
    n = m.size
    i = 0
    total = len(cw) * 8
    right = n - 1
    while right >= 1:
        if right == 6:
            right = 5
        up = ((right + 1) & 2) == 0
        for k in range(n):
            y = n - 1 - k if up else k
            for x in (right, right - 1):
                at = y * n + x
                if not m.func[at] and i < total:
                    m.dark[at] = cw[i >> 3] >> (7 - (i & 7)) & 1
                    i += 1
        right -= 2


def _masked(x, y, mask):
    if mask == 0:
        return (x + y) % 2 == 0
    if mask == 1:
        return y % 2 == 0
    if mask == 2:
        return x % 3 == 0
    if mask == 3:
        return (x + y) % 3 == 0
    if mask == 4:
        return (x // 3 + y // 2) % 2 == 0
    if mask == 5:
        return x * y % 2 + x * y % 3 == 0
    if mask == 6:
        return (x * y % 2 + x * y % 3) % 2 == 0
    return ((x + y) % 2 + x * y % 3) % 2 == 0


def _apply(m, mask):
    n = m.size
    for y in range(n):
        for x in range(n):
            at = y * n + x
            if not m.func[at] and _masked(x, y, mask):
                m.dark[at] ^= 1


def _penalty(m):
    # ISO 18004 rules 1 (runs of 5+), 2 (2x2 blocks), 4 (balance); rule 3
    # (finder-like runs) left out: it only breaks ties between good masks
    n = m.size
    d = m.dark
    p = 0
    for y in range(n):
        for line in (range(y * n, y * n + n), range(y, n * n, n)):
            run = 0
            last = 2
            for at in line:
                if d[at] == last:
                    run += 1
                    if run == 5:
                        p += 3
                    elif run > 5:
                        p += 1
                else:
                    last = d[at]
                    run = 1
    for y in range(n - 1):
        for x in range(n - 1):
            at = y * n + x
            s = d[at] + d[at + 1] + d[at + n] + d[at + n + 1]
            if s == 0 or s == 4:
                p += 3
    dark = sum(d)
    p += abs(dark * 20 - n * n * 10) // (n * n) * 10
    return p


async def matrix(data):
    # bytes -> Matrix with the mask of the lowest penalty
    v = version(len(data))
    if v is None:
        raise ValueError("QR data too long")
    cw = _codewords(data, v)
    m = Matrix(v)
    _patterns(m)
    _place(m, cw)
    await sleep_ms(0)
    best = None
    for mask in range(8):
        _apply(m, mask)
        _format(m, mask)
        p = _penalty(m)
        if best is None or p < best[0]:
            best = (p, mask)
        _apply(m, mask)  # undone: the mask is its own inverse
        await sleep_ms(0)
    _apply(m, best[1])
    _format(m, best[1])
    return m
