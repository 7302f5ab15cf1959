# Ring reuse never drops what must be kept (KZ-8, KZ-28): random appends,
# acknowledgements, checkpoints, shift closes and clock jumps on a small ring.
# Invariants after every step and after every reopen:
#   - every unacknowledged document is readable, byte for byte;
#   - the latest checkpoint and everything after it are readable;
#   - the whole open shift is readable;
#   - a refused append (JournalFull) changed nothing.
import random

from boards.sim.nor_flash import NorFlash
from journal import Accumulator, JournalFull, JournalError

KEY = b"ring-key"
T0 = 1700000000


def _rng(seed):
    if hasattr(random, "Random"):
        return random.Random(seed)
    random.seed(seed)
    return random


def check(acc, docs, store, ckpt, shift_start):
    u = acc.unacked()
    assert u == [d for d in docs]
    for d in u:
        assert acc.read(d)[2] == store[d]
    if ckpt is not None:
        assert acc.last_checkpoint() == ckpt
        lo = ckpt
    else:
        lo = acc.last_seq + 1
    lo = min(lo, shift_start, u[0] if u else lo)
    assert acc.oldest_seq <= lo
    for s in range(lo, acc.last_seq + 1):
        if s in store:
            assert acc.read(s)[2] == store[s]


def run(seed, steps, blocks=5, retention=2000, reopen_every=40):
    rnd = _rng(seed)
    log = NorFlash(blocks)
    fm = NorFlash(4)
    acc = Accumulator(log, fm, KEY, retention)
    ts = T0
    docs = []
    store = {}
    ckpt = None
    shift_start = 1
    refused = 0
    for step in range(steps):
        k = rnd.randint(0, 99)
        ts += rnd.choice((1, 10, 100, 1000, 5000))
        last = acc.last_seq
        try:
            if k < 45:
                p = bytes([rnd.randint(0, 255)]) * rnd.randint(0, 400)
                need = rnd.randint(0, 1) == 1
                s = acc.append(16 + k, p, ts, need)
                store[s] = p
                if need:
                    docs.append(s)
            elif k < 75:
                if docs:
                    acc.ack(docs[0], b"sign", ts)
                    docs.pop(0)
            elif k < 85:
                ckpt = acc.checkpoint(b"state%d" % step, ts)
            elif k < 92:
                acc.close_shift(b"z", ts)
                shift_start = acc.last_seq
            else:
                try:  # acks out of order are refused
                    acc.ack(acc.last_seq + 5, b"bad", ts)
                    assert False
                except JournalFull:
                    raise
                except JournalError:
                    pass
        except JournalFull:
            refused += 1
            assert acc.last_seq == last
        check(acc, docs, store, ckpt, shift_start)
        if step % reopen_every == reopen_every - 1:
            acc = Accumulator(log, fm, KEY, retention)
            check(acc, docs, store, ckpt, shift_start)
            assert acc.self_test().ok
    return acc, refused


def test_kz_8_ring_reuse_keeps_unacked_seed_1():
    acc, refused = run(1, 700)
    assert acc.oldest_seq > 1  # the ring wrapped
    assert acc.self_test().ok


def test_kz_8_ring_reuse_keeps_unacked_seed_2_tight():
    acc, refused = run(2, 700, blocks=3, retention=50000)
    assert refused > 0  # a tight ring with a long window refuses appends
    assert acc.self_test().ok
