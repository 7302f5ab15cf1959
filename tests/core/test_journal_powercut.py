# Power cut at thousands of byte offsets over a scripted sequence of 320
# operations (200+ appends of mixed sizes, acks, checkpoints, shift closes) on a
# small ring that wraps, so cuts also land in sector erases, sector headers
# and Z writes. After each cut the accumulator is reopened ("reboot"): every
# operation that returned is intact and in order, the interrupted one is
# wholly there or absent, the self-test passes and new appends work.
# KZ-28, KZ-8, KZ-9; the host test covers every byte offset.
import random

from boards.sim.nor_flash import NorFlash, PowerCut
from journal import Accumulator, JournalFull

KEY = b"cut-test-key"
T0 = 1700000000
RETENTION = 3000


SIZES = (0, 1, 17, 60, 150, 300, 700, 1500)


def script(n_ops, seed, sizes=SIZES):
    rnd = random.Random(seed) if hasattr(random, "Random") else None
    if rnd is None:
        random.seed(seed)
        rnd = random
    ops = []
    for i in range(n_ops):
        k = rnd.randint(0, 99)
        ts = T0 + i * 400
        if i % 37 == 36:
            ops.append(("z", b"Z%d" % i, ts))
        elif k < 25:
            ops.append(("ack", b"FP%d" % i, ts))
        elif k < 30:
            ops.append(("ckpt", b"C" * rnd.randint(0, 60), ts))
        else:
            size = rnd.choice(sizes)
            ops.append(("app", bytes([i % 251]) * size, ts, k < 50))
    return ops


def run_op(acc, op, model):
    # model: list of (seq, kind, ts, payload) of every record that returned
    kind = op[0]
    if kind == "app":
        s = acc.append(16 + len(op[1]) % 200, op[1], op[2], op[3])
        model.append((s, "app", op[2], op[1]))
    elif kind == "ack":
        u = acc.unacked()
        if not u:
            return
        s = acc.ack(u[0], op[1], op[2])
        model.append((s, "ack", op[2], op[1]))
    elif kind == "ckpt":
        s = acc.checkpoint(op[1], op[2])
        model.append((s, "ckpt", op[2], op[1]))
    else:
        acc.close_shift(op[1], op[2])
        model.append((acc.last_seq, "z", op[2], op[1]))


def check(acc, before, after, z_before, full):
    # before/after: model lists; the reopened log must match one of them.
    n = acc.last_seq
    assert n in (before[-1][0] if before else 0, after[-1][0] if after else 0), (n,)
    model = after if after and n == after[-1][0] else before
    assert acc.z_count() in (z_before, z_before + 1)
    r = acc.self_test()
    assert r.ok, (r.reason, r.seq, r.shift)
    assert acc.recovery.get("damaged") is None
    if model:
        seq, kind, ts, payload = model[-1]
        got = acc.read(seq)
        assert got[1] == ts
        if kind == "app":
            assert got[2] == payload
    if full:
        want = [m for m in model if m[1] == "app" and m[0] >= acc.oldest_seq]
        got = list(acc.records(acc.oldest_seq))
        assert [g[0] for g in got] == [m[0] for m in want]
        for g, m in zip(got, want):
            assert g[3] == m[3] and g[2] == m[2]


def sweep(n_ops, stride, seed, full_every, lo=0, hi=None, sizes=SIZES):
    # Cut points only for operations lo..hi-1 (a host test splits the work).
    log = NorFlash(10)
    fm = NorFlash(1)
    acc = Accumulator(log, fm, KEY, RETENTION)
    model = []
    cuts = 0
    full = 0
    rnd_off = 0
    for i, op in enumerate(script(n_ops, seed, sizes)):
        snap_l = log.snapshot()
        snap_f = fm.snapshot()
        before = list(model)
        z_before = acc.z_count()
        p0 = log.bytes_programmed + fm.bytes_programmed
        e0 = sum(log.erase_counts)
        try:
            run_op(acc, op, model)
        except JournalFull:
            continue
        span = log.bytes_programmed + fm.bytes_programmed - p0
        erased = sum(log.erase_counts) > e0
        points = list(range(rnd_off, span, stride))
        if i < lo or (hi is not None and i >= hi):
            points = []
        rnd_off = (rnd_off + 1) % stride
        if erased and points:
            points.append(-1)  # cut inside the sector erase: start erased
            points.append(-2)  # or the end erased, the old header kept
        for c in points:
            tl = NorFlash(log.blocks)
            tf = NorFlash(fm.blocks)
            tl.restore(snap_l)
            tf.restore(snap_f)
            a = Accumulator(tl, tf, KEY, RETENTION)
            if c < 0:
                tl.cut_erase(c == -2)
            else:
                tl.cut_after(c)
                tf.cut_after(c)  # only one of them is written by an op
            m = list(before)
            try:
                run_op(a, op, m)
            except PowerCut:
                pass
            tl.disarm()
            tf.disarm()
            a2 = Accumulator(tl, tf, KEY, RETENTION)
            cuts += 1
            check(a2, before, model, z_before, cuts % full_every == 0)
            try:
                s = a2.append(99, b"after reboot", op[2] + 1)
            except JournalFull:
                full += 1
                continue
            assert a2.read(s) == (99, op[2] + 1, b"after reboot")
    assert full * 20 < cuts, (full, cuts)
    return cuts, acc, len([m for m in model if m[1] == "app"])


def test_kz_28_power_cut_sweep_over_320_ops():
    cuts, acc, appends = sweep(320, 14, 1, 25)
    assert appends >= 200, appends
    assert cuts >= 5000, cuts
    assert acc.z_count() >= 5
    assert acc.oldest_seq > 1  # the ring wrapped: erases were cut too
    assert acc.self_test().ok
