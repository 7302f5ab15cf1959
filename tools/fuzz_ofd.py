# Fuzz campaign for the firmware protocol codec and framing reader.
#
#   python tools/fuzz_ofd.py [COUNT] [--seed N]        (make fuzz: 100000 inputs)
#   micropython tools/fuzz_ofd.py 5000                 (same campaign on MicroPython)
#
# Inputs: random valid messages of every schema type (generated from the
# firmware tables, round-tripped), then mutated: bit flips, special bytes,
# truncation, deleted/duplicated/inserted ranges, splices, over-long varints,
# huge lengths, wrong wire types, deep chains of nested length-delimited
# fields, pure random bytes; and whole frames with mutated headers, huge or
# tiny sizes and streams that deliver random chunk sizes or stop early.
#
# Properties checked for every input:
# - the decoder and the framing reader raise nothing but ofd.ProtocolError;
# - a decoded message re-encodes (or is refused only for an out-of-range
#   uint64: enums decode closed) and decodes to the same dict;
# - the framing reader never reads past the announced frame size and never
#   accepts a size above its limit;
# - no single input takes longer than the time limit.
# A violation raises AssertionError with the input in hex for reproduction.

import random
import sys

_root = (__file__.rsplit("/", 1)[0] if "/" in __file__ else ".") + "/.."
sys.path.insert(0, _root + "/firmware")

import ofd  # noqa: E402
from compat import ticks_diff, ticks_ms  # noqa: E402
from ofd import codec, frame, header, schema  # noqa: E402

PE = ofd.ProtocolError
N_TYPES = len(schema.FIELDS)
REENCODE_REFUSALS = ("out of range",)  # wire uint64 above 2**63 - 1; enums decode closed
INTERESTING = (0, 1, 0x7F, 0x80, 0xFF, 0x00, 0x08, 0x0A, 0x12)


class Rng:
    # Small helpers over the random module that work on both runtimes.
    def __init__(self, seed):
        random.seed(seed)

    def below(self, n):
        # 0 <= x < n for any n >= 1 (also above 2**32)
        if n <= 0x40000000:
            return random.getrandbits(30) % n
        x = (random.getrandbits(32) << 32) | random.getrandbits(32)
        return x % n

    def chance(self, k):
        return random.getrandbits(16) % k == 0

    def pick(self, seq):
        return seq[self.below(len(seq))]

    def bytes(self, n):
        return bytes(random.getrandbits(8) for _ in range(n))


def _int_in(rng, lo, hi):
    # Boundary values often, uniform otherwise.
    r = rng.below(6)
    if r == 0:
        return lo
    if r == 1:
        return hi
    if r == 2 and lo <= 0 <= hi:
        return 0
    if r == 3:
        return lo + rng.below(min(hi - lo + 1, 300))
    return lo + rng.below(hi - lo + 1)


def _text(rng):
    alphabet = ("a", "Z", "7", " ", "д", "Қ", "ү", "€", "\n", "😀")
    return "".join(rng.pick(alphabet) for _ in range(rng.below(8)))


def random_value(rng, kind, sub, depth):
    if kind == 9:
        return random_message(rng, sub, depth + 1)
    if kind == 7:
        return _text(rng)
    if kind == 8:
        return rng.bytes(rng.below(8))
    if kind == 5:
        return rng.below(2) == 1
    if kind == 6:
        return rng.pick(schema.ENUMS[sub])
    if kind == 3:
        return _int_in(rng, 0, 2147483647)
    if kind == 4:
        return _int_in(rng, 0, codec.MAX_U64)
    if kind == 1:
        return _int_in(rng, -2147483648, 2147483647)
    return _int_in(rng, -codec.MAX_U64 - 1, codec.MAX_U64)


def random_message(rng, m, depth=0):
    f = schema.FIELDS[m]
    out = {}
    i = 0
    while i < len(f):
        name, code, sub = f[i + 1], f[i + 2], f[i + 3]
        label = code >> 4
        # keep deep messages small: fewer optional fields further down
        if label == 1 or rng.below(2 + depth) == 0:
            if label == 2:
                out[name] = [random_value(rng, code & 15, sub, depth) for _ in range(1 + rng.below(2))]
            else:
                out[name] = random_value(rng, code & 15, sub, depth)
        i += 4
    return out


def _varint(v):
    out = bytearray()
    while v > 0x7F:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def deep_chain(rng, levels):
    # Nested length-delimited fields, `levels` deep, random field numbers.
    body = rng.bytes(rng.below(4))
    for _ in range(levels):
        num = 1 + rng.below(20)
        body = _varint((num << 3) | 2) + _varint(len(body)) + body
    return body


def mutate(rng, data, seeds):
    b = bytearray(data)
    for _ in range(rng.pick((1, 1, 1, 2, 2, 3, 4))):
        op = rng.below(12)
        n = len(b)
        if op == 0 and n:
            i = rng.below(n)
            b[i] ^= 1 << rng.below(8)
        elif op == 1 and n:
            b[rng.below(n)] = rng.pick(INTERESTING) if rng.below(2) else rng.below(256)
        elif op == 2 and n:
            b = b[: rng.below(n)]
        elif op == 3 and n:
            i = rng.below(n)
            j = i + 1 + rng.below(8)
            b = b[:i] + b[j:]
        elif op == 4:
            i = rng.below(n + 1)
            b = b[:i] + rng.bytes(1 + rng.below(8)) + b[i:]
        elif op == 5:
            # over-long varint (11 continuation bytes) or a 10-byte one
            i = rng.below(n + 1)
            bad = b"\xff" * (9 + rng.below(4)) + (b"\x01" if rng.below(2) else b"")
            b = b[:i] + bad + b[i:]
        elif op == 6:
            # a length-delimited field announcing a huge length
            i = rng.below(n + 1)
            num = 1 + rng.below(20)
            huge = _varint((num << 3) | 2) + _varint(rng.pick((0xFFFFFFFF, 1 << 62, 0x7FFFFFFF, n + 1)))
            b = b[:i] + huge + b[i:]
        elif op == 7 and n:
            # wrong wire type: change the low 3 bits of a byte (often a key)
            i = rng.below(n)
            b[i] = (b[i] & 0xF8) | rng.below(8)
        elif op == 8 and n:
            i = rng.below(n)
            j = min(n, i + 1 + rng.below(16))
            b = b[:j] + b[i:j] + b[j:]
        elif op == 9:
            other = rng.pick(seeds)
            i = rng.below(n + 1)
            j = rng.below(len(other) + 1)
            b = b[:i] + other[j:]
        elif op == 10:
            i = rng.below(n + 1)
            b = b[:i] + deep_chain(rng, 1 + rng.below(200)) + b[i:]
        else:
            num = 1 + rng.below(70)
            wt = rng.pick((0, 1, 2, 3, 4, 5, 6, 7))
            b = b + _varint((num << 3) | wt) + rng.bytes(rng.below(10))
    return bytes(b)


class Stream:
    # Delivers `data` in random chunks; may return None or b"" early.
    def __init__(self, rng, data, use_readinto):
        self.rng = rng
        self.data = data
        self.pos = 0
        self.stop_early = rng.chance(8)
        self.none = rng.chance(2)
        if use_readinto:
            self.readinto = self._readinto

    def _chunk(self, want):
        if self.stop_early and self.rng.chance(20):
            return None if self.none else b""
        k = min(want, 1 + self.rng.below(64), len(self.data) - self.pos)
        c = self.data[self.pos : self.pos + k]
        self.pos += k
        return c

    def read(self, n):
        return self._chunk(n)

    def _readinto(self, buf):
        c = self._chunk(len(buf))
        if c is None:
            return None
        buf[0 : len(c)] = c
        return len(c)


class Campaign:
    def __init__(self, seed, time_limit_ms=2000):
        self.rng = Rng(seed)
        self.time_limit_ms = time_limit_ms
        self.stats = {"inputs": 0, "decoded": 0, "frames": 0, "frames_ok": 0, "max_ms": 0}
        self.reasons = {}
        self.seeds = []

    def _fail(self, what, data, extra=""):
        raise AssertionError("%s: %s input=%s" % (what, extra, bytes(data).hex()))

    def _timed(self, t0, data):
        dt = ticks_diff(ticks_ms(), t0)
        if dt > self.stats["max_ms"]:
            self.stats["max_ms"] = dt
        if dt > self.time_limit_ms:
            self._fail("too slow (%d ms)" % dt, data)

    def _count(self, e):
        r = e.args[0] if e.args else "?"
        self.reasons[r] = self.reasons.get(r, 0) + 1

    def make_seeds(self, n):
        for k in range(n):
            # a third are whole Requests/Responses (used for the frames too)
            m = (schema.Request, schema.Response)[k % 2] if k % 3 == 0 else self.rng.below(N_TYPES)
            msg = random_message(self.rng, m)
            data = codec.encode(m, msg)
            if codec.decode(m, data) != msg:
                self._fail("roundtrip of a valid message", data, schema.NAMES[m])
            self.seeds.append((m, data))

    def decode_one(self, m, data, max_depth):
        self.stats["inputs"] += 1
        t0 = ticks_ms()
        try:
            msg = codec.decode(m, data, max_depth)
        except PE as e:
            self._count(e)
            self._timed(t0, data)
            return
        except Exception as e:  # noqa: BLE001 - any other type is the bug we hunt
            self._fail("undocumented %s %r" % (type(e).__name__, e.args), data, schema.NAMES[m])
        self.stats["decoded"] += 1
        try:
            again = codec.encode(m, msg)
        except PE as e:
            if e.args[0] not in REENCODE_REFUSALS:
                self._fail("re-encode refused: %r" % (e.args,), data, schema.NAMES[m])
            self._timed(t0, data)
            return
        if codec.decode(m, again, max_depth) != msg:
            self._fail("re-encode changed the message", data, schema.NAMES[m])
        self._timed(t0, data)

    def frame_one(self, m, data, max_size):
        self.stats["inputs"] += 1
        self.stats["frames"] += 1
        s = Stream(self.rng, data, self.rng.below(2) == 0)
        t0 = ticks_ms()
        try:
            h, msg = frame.read_message(s, m, 203, max_size)
        except PE as e:
            self._count(e)
            if s.pos > 18 and s.pos > header.SIZE + max_size:
                self._fail("read past the size limit", data)
            self._timed(t0, data)
            return
        except Exception as e:  # noqa: BLE001
            self._fail("undocumented %s %r from framing" % (type(e).__name__, e.args), data)
        if h.size > max_size or s.pos != h.size:
            self._fail("frame size not respected (%d, read %d)" % (h.size, s.pos), data)
        self.stats["frames_ok"] += 1
        self._timed(t0, data)

    def random_frame(self):
        m, payload = self.rng.pick(self.envelopes)
        r = self.rng.below(6)
        if r == 0:
            payload = mutate(self.rng, payload, [p for _, p in self.seeds[:20]])
        size = len(payload) + 18
        if r == 1:
            size = self.rng.pick((0, 1, 17, 18, 19, size - 1, size + 1, 65536, 65537, 0xFFFFFFFF,
                                  self.rng.below(1 << 32)))
        data = bytearray(b"\xa2\x81\xcb\x00" + size.to_bytes(4, "little") + self.rng.bytes(10))
        data += payload
        if r == 2:
            # mutate the header itself
            for _ in range(1 + self.rng.below(3)):
                data[self.rng.below(18)] = self.rng.below(256)
        elif r == 3:
            data = data[: self.rng.below(len(data) + 1)]
        elif r == 4:
            data += self.rng.bytes(self.rng.below(40))
        return m, bytes(data)

    def run(self, count, progress=False):
        self.make_seeds(240)
        self.envelopes = [x for x in self.seeds if x[0] in (schema.Request, schema.Response)]
        seed_bytes = [p for _, p in self.seeds]
        done = 0
        while done < count:
            r = self.rng.below(20)
            if r < 3:
                m, data = self.random_frame()
                self.frame_one(m, data, self.rng.pick((65536, 65536, 1024, 100)))
            else:
                m, data = self.rng.pick(self.seeds)
                if r == 3:
                    data = self.rng.bytes(self.rng.below(64))
                elif r == 4:
                    data = deep_chain(self.rng, 1 + self.rng.below(3000))
                else:
                    data = mutate(self.rng, data, seed_bytes)
                if self.rng.chance(10):
                    m = self.rng.below(N_TYPES)
                depth = codec.DEFAULT_MAX_DEPTH if self.rng.below(4) else self.rng.below(6)
                self.decode_one(m, data, depth)
            done += 1
            if progress and done % 10000 == 0:
                print("  %d inputs" % done)
        return self.stats


def run(count, seed=1, time_limit_ms=2000, progress=False):
    c = Campaign(seed, time_limit_ms)
    stats = c.run(count, progress)
    stats["reasons"] = c.reasons
    return stats


def main(argv):
    count = 100000
    seed = 1
    i = 0
    while i < len(argv):
        if argv[i] == "--seed":
            seed = int(argv[i + 1])
            i += 1
        else:
            count = int(argv[i])
        i += 1
    t0 = ticks_ms()
    stats = run(count, seed, progress=True)
    secs = ticks_diff(ticks_ms(), t0) / 1000
    reasons = stats.pop("reasons")
    print("fuzz_ofd (%s): %d inputs in %.1f s, seed %d" % (sys.implementation.name, stats["inputs"], secs, seed))
    print("  decoded OK %d, frames %d (accepted %d), slowest input %d ms" % (
        stats["decoded"], stats["frames"], stats["frames_ok"], stats["max_ms"]))
    for k in sorted(reasons):
        print("  ProtocolError %-24s %d" % (k, reasons[k]))
    print("fuzz_ofd: OK, only ofd.ProtocolError raised")


if __name__ == "__main__":
    main(sys.argv[1:])
