# Fiscal data accumulator: API, recovery, tamper detection, space rules.
# Requirement numbers: KZ-2.3, KZ-8, KZ-9, KZ-13, KZ-28, KZ-43.2, KZ-ND-29, KZ-ND-36, KZ-ND-T1.
import struct

from boards.sim.nor_flash import NorFlash, FlashError
from journal import (
    Accumulator,
    JournalError,
    JournalFull,
    ACK,
    CHECKPOINT,
    ZCLOSE,
    MAX_PAYLOAD,
    ZMARK_LEN,
)
from journalkit import KEY, T0
from journalkit import new as _new
from journalkit import reopen as _reopen


def test_append_read_records_in_order():
    log, fm, acc = _new()
    s1 = acc.append(16, b"sale one", T0)
    s2 = acc.append(17, b"", T0 + 1)
    s3 = acc.append(255, b"x" * MAX_PAYLOAD, T0 + 2)
    assert (s1, s2, s3) == (1, 2, 3)
    assert acc.read(1) == (16, T0, b"sale one")
    assert acc.read(3) == (255, T0 + 2, b"x" * MAX_PAYLOAD)
    assert [r[0] for r in acc.records(1)] == [1, 2, 3]
    assert list(acc.records(2))[0] == (2, 17, T0 + 1, b"")
    assert acc.last_seq == 3 and acc.last_ts == T0 + 2


def test_bad_arguments_are_refused():
    log, fm, acc = _new()
    for bad in ((15, b"", T0), (256, b"", T0), (16, b"x" * (MAX_PAYLOAD + 1), T0), (16, b"", -1)):
        try:
            acc.append(bad[0], bad[1], bad[2])
            assert False
        except JournalError as e:
            assert type(e) is JournalError
    for seq in (0, 1, 99):
        try:
            acc.read(seq)
            assert False
        except JournalError as e:
            assert type(e) is JournalError
    assert acc.last_seq == 0


def test_kz_8_acks_in_order_and_unacked_index():
    log, fm, acc = _new()
    d1 = acc.append(16, b"doc1", T0, need_ack=True)
    acc.append(20, b"note", T0 + 5)
    d2 = acc.append(16, b"doc2", T0 + 10, need_ack=True)
    d3 = acc.append(16, b"doc3", T0 + 20, need_ack=True)
    assert acc.unacked() == [d1, d2, d3]
    assert acc.oldest_unacked_ts() == T0
    try:
        acc.ack(d2, b"sign", T0 + 30)  # not the oldest
        assert False
    except JournalError as e:
        assert e.args == ("ack order", d2)
    a = acc.ack(d1, b"FP-1", T0 + 30)
    assert acc.read(a) == (ACK, T0 + 30, struct.pack("<I", d1) + b"FP-1")
    assert acc.unacked() == [d2, d3]
    assert acc.oldest_unacked_ts() == T0 + 10
    # the ACK is journal-internal: not in records()
    assert [r[0] for r in acc.records(1)] == [1, 2, 3, 4]
    acc2 = _reopen(log, fm)
    assert acc2.unacked() == [d2, d3]
    assert acc2.oldest_unacked_ts() == T0 + 10
    acc2.ack(d2, b"FP-2", T0 + 40)
    acc2.ack(d3, b"FP-3", T0 + 41)
    assert acc2.unacked() == [] and acc2.oldest_unacked_ts() is None
    try:
        acc2.ack(d3, b"again", T0 + 42)
        assert False
    except JournalError:
        pass


def test_unacked_queries_without_a_copy_agree_with_the_list():
    log, fm, acc = _new()
    assert (acc.unacked_count(), acc.first_unacked(), acc.is_unacked(1)) == (0, None, False)
    docs = []
    for i in range(40):
        docs.append(acc.append(16, b"doc", T0 + i, need_ack=True))
        acc.append(20, b"note", T0 + i)
    for k in range(35):  # past the point where the index is compacted
        acc.ack(docs[k], b"FP", T0 + 100)
        rest = docs[k + 1 :]
        assert acc.unacked() == rest and acc.unacked(3) == rest[:3] and acc.unacked(0) == []
        assert acc.unacked_count() == len(rest) and acc.first_unacked() == rest[0]
        assert not acc.is_unacked(docs[k]) and not acc.is_unacked(docs[k] + 1)  # acked; a note
        assert acc.is_unacked(rest[0]) and acc.is_unacked(rest[-1])
        assert not acc.is_unacked(rest[-1] + 2)  # not written yet
    acc2 = _reopen(log, fm)
    assert acc2.unacked_count() == 5 and acc2.first_unacked() == docs[35] and acc2.is_unacked(docs[39])


def test_checkpoint_survives_reopen():
    log, fm, acc = _new()
    assert acc.last_checkpoint() is None
    acc.append(16, b"a", T0)
    c = acc.checkpoint(b"state-1", T0 + 1)
    acc.append(16, b"b", T0 + 2)
    assert acc.last_checkpoint() == c
    acc2 = _reopen(log, fm)
    assert acc2.last_checkpoint() == c
    assert acc2.read(c) == (CHECKPOINT, T0 + 1, b"state-1")
    assert acc2.last_seq == 3 and acc2.last_ts == T0 + 2


def test_kz_nd_29_close_shift_and_read_z():
    log, fm, acc = _new()
    acc.append(16, b"r1", T0)
    acc.append(16, b"r2", T0 + 1)
    chain = acc.chain
    z = acc.close_shift(b"totals-1", T0 + 100)
    assert z == 1 and acc.z_count() == 1
    assert acc.read_z(1) == (T0 + 100, b"totals-1", chain)
    # the marker record opens the next shift
    assert acc.read(3)[0] == ZCLOSE
    acc.append(16, b"r3", T0 + 200)
    assert acc.close_shift(b"", T0 + 300) == 2
    acc2 = _reopen(log, fm)
    assert acc2.z_count() == 2
    assert acc2.read_z(1)[1] == b"totals-1"
    assert acc2.read_z(2)[:2] == (T0 + 300, b"")
    assert acc2.self_test().ok
    try:
        acc2.read_z(3)
        assert False
    except JournalError:
        pass
    try:
        acc2.close_shift(b"s" * 257, T0 + 400)
        assert False
    except JournalError:
        pass


def test_kz_nd_34_z_area_full_refuses_never_wraps():
    # 1 block of fiscal memory = 12 slots
    log, fm, acc = _new(fm_blocks=1)
    assert acc.z_slots_left() == 12
    for i in range(12):
        acc.append(16, b"r", T0 + i * 10)
        acc.close_shift(b"z%d" % i, T0 + i * 10 + 5)
    assert acc.z_slots_left() == 0
    try:
        acc.close_shift(b"one more", T0 + 1000)
        assert False
    except JournalFull as e:
        assert e.args == ("fm",)
    assert acc.z_count() == 12
    assert acc.self_test().ok


def test_kz_nd_t1_fm_size_gives_3000_slots():
    # 1 MB fiscal-memory partition (256 blocks) holds 3072 Z slots
    class Blank:  # an erased 1 MB partition, without holding 1 MB of RAM
        def ioctl(self, op, arg):
            return {4: 256, 5: 4096}.get(op, 0)

        def readblocks(self, block, buf, off=0):
            for i in range(len(buf)):
                buf[i] = 0xFF

    acc = Accumulator(NorFlash(4), Blank(), KEY)
    assert acc.z_slots_left() == 3072


def test_z_slots_left_count_down_with_every_close():
    log, fm, acc = _new(fm_blocks=3)  # 36 slots
    for i in range(6):
        assert acc.z_slots_left() == 36 - i
        acc.close_shift(b"", T0 + i)
    assert _reopen(log, fm).z_slots_left() == 30


def _fill(acc, n, ts=T0, size=40):
    for i in range(n):
        acc.append(16 + i % 3, bytes([i % 256]) * (size + i % 7), ts + i)


def test_kz_2_3_self_test_ok_on_clean_log():
    log, fm, acc = _new()
    _fill(acc, 30)
    acc.close_shift(b"Z1", T0 + 100)
    _fill(acc, 30, T0 + 200)
    r = acc.self_test()
    assert r.ok and r.reason == "ok" and r.shift is None and r.seq is None
    assert r.z_checked == 1
    assert r.records == 30 + 31  # last closed shift + open shift (marker included)


def _find(dev, needle):
    return bytes(dev.data).find(needle)


def test_kz_9_bit_flip_in_open_shift_is_caught():
    log, fm, acc = _new()
    _fill(acc, 20)
    acc.append(16, b"TARGET-RECORD-PAYLOAD", T0 + 50)
    _fill(acc, 5, T0 + 60)
    pos = _find(log, b"TARGET-RECORD-PAYLOAD")
    log.data[pos + 3] ^= 0x04  # a bit flips in storage
    acc2 = _reopen(log, fm)
    assert acc2.last_seq == 26  # the records after it are still there
    assert acc2.recovery["damaged"] == 21
    r = acc2.self_test()
    assert not r.ok and r.seq == 21 and r.shift is None


def test_kz_43_2_rewritten_record_with_new_crc_is_caught():
    # Somebody edits a stored receipt and recomputes its CRC-32 (and could
    # recompute any unkeyed hash): the keyed chain catches it.
    import binascii

    log, fm, acc = _new()
    _fill(acc, 10)
    acc.append(16, b"amount=1000", T0 + 50)
    _fill(acc, 5, T0 + 60)
    pos = _find(log, b"amount=1000")
    start = pos - 14
    ln = struct.unpack_from("<H", log.data, start + 12)[0]
    end = start + 14 + ln + 36
    log.data[pos : pos + 11] = b"amount=0010"
    crc = binascii.crc32(bytes(log.data[start : end - 4])) & 0xFFFFFFFF
    struct.pack_into("<I", log.data, end - 4, crc)
    acc2 = _reopen(log, fm)
    assert acc2.last_seq == 16 and "damaged" not in acc2.recovery
    r = acc2.self_test()
    assert not r.ok and r.seq == 11 and r.reason == "record mac"


def test_kz_2_3_1_last_closed_shift_checked_against_z():
    log, fm, acc = _new()
    _fill(acc, 8)
    acc.append(16, b"IN-CLOSED-SHIFT", T0 + 20)
    acc.close_shift(b"Z1", T0 + 30)
    _fill(acc, 3, T0 + 40)
    pos = _find(log, b"IN-CLOSED-SHIFT")
    log.data[pos] ^= 0x01
    r = _reopen(log, fm).self_test()
    assert not r.ok and r.shift == 1 and r.seq == 9


def test_kz_2_3_2_tampered_z_summary_is_caught():
    log, fm, acc = _new()
    for i in range(4):
        _fill(acc, 3, T0 + i * 100)
        acc.close_shift(b"SUMMARY-%d" % i, T0 + i * 100 + 50)
    snap = fm.snapshot()
    pos = _find(fm, b"SUMMARY-1")
    fm.data[pos + 8] = ord("7")  # SUMMARY-1 -> SUMMARY-7, CRC left stale
    r = _reopen(log, fm).self_test()
    assert not r.ok and r.shift == 2 and r.reason == "z damaged"
    # the same edit with the slot's CRC-32 recomputed: the keyed Z chain fails
    import binascii

    fm.restore(snap)
    fm.data[pos + 8] = ord("7")
    slot = (pos // 336) * 336
    struct.pack_into("<I", fm.data, slot + 320, binascii.crc32(bytes(fm.data[slot : slot + 320])) & 0xFFFFFFFF)
    r = _reopen(log, fm).self_test()
    assert not r.ok and r.shift == 2 and r.reason == "z mac"


def test_deleting_last_z_is_caught_by_marker():
    log, fm, acc = _new()
    _fill(acc, 3)
    acc.close_shift(b"Z-ONE", T0 + 50)
    _fill(acc, 3, T0 + 60)
    acc.close_shift(b"Z-TWO", T0 + 150)
    _fill(acc, 2, T0 + 160)
    pos = _find(fm, b"Z-TWO")
    fm.data[pos] = 0  # the last Z no longer verifies
    acc2 = _reopen(log, fm)
    assert acc2.z_count() == 1
    r = acc2.self_test()
    assert not r.ok and r.reason == "z marker"


def test_writing_over_programmed_bytes_fails_cleanly():
    # Someone programmed bytes where the next record goes: the append fails
    # with a clear error, nothing already stored is lost, the next append
    # moves to a fresh sector.
    log, fm, acc = _new()
    _fill(acc, 5)
    log.writeblocks(acc.head, b"\x00" * 8, acc.head_off + 4)
    try:
        acc.append(16, b"will not fit here", T0 + 10)
        assert False
    except FlashError as e:
        assert e.args[0] == 5
    assert acc.last_seq == 5
    s = acc.append(16, b"next", T0 + 11)
    assert s == 6 and acc.read(6) == (16, T0 + 11, b"next")
    acc2 = _reopen(log, fm)
    assert acc2.last_seq == 6 and [r[0] for r in acc2.records(1)] == [1, 2, 3, 4, 5, 6]


def test_kz_8_full_log_refuses_and_keeps_unacked():
    log, fm, acc = _new(log_blocks=4, retention=0)
    docs = []
    n = 0
    try:
        while True:
            docs.append(acc.append(16, b"d" * 200, T0 + n, need_ack=True))
            n += 1
    except JournalFull as e:
        assert e.args == ("log",)
    assert n > 20
    assert acc.unacked() == docs
    try:
        acc.append(16, b"d" * 200, T0 + n)
        assert False
    except JournalFull:
        pass
    # acks can still be written (reserve sector), nothing was overwritten
    acc.ack(docs[0], b"sign", T0 + n)
    acc2 = _reopen(log, fm, 0)
    assert acc2.unacked() == docs[1:]
    for d in docs:
        assert acc2.read(d) == (16, T0 + docs.index(d), b"d" * 200)
    assert acc2.self_test().ok


def test_ring_reuses_acked_sectors_after_retention():
    log, fm, acc = _new(log_blocks=4, retention=1000)
    ts = T0
    for i in range(300):
        d = acc.append(16, b"r" * 150, ts, need_ack=True)
        acc.ack(d, b"ok", ts)
        if i % 20 == 19:
            acc.close_shift(b"", ts)
        ts += 100
    assert acc.last_seq > 600
    assert acc.oldest_seq > 1  # old sectors were reused
    try:
        acc.read(1)
        assert False
    except JournalError:
        pass
    acc2 = _reopen(log, fm, 1000)
    assert acc2.last_seq == acc.last_seq and acc2.self_test().ok
    assert min(log.erase_counts) >= 1


def test_retention_window_blocks_reuse():
    log, fm, acc = _new(log_blocks=4, retention=10 ** 6)
    ts = T0
    try:
        for i in range(1000):
            d = acc.append(16, b"r" * 150, ts, need_ack=True)
            acc.ack(d, b"ok", ts)
            if i % 10 == 9:
                acc.close_shift(b"", ts)
            ts += 60
        assert False
    except JournalFull:
        pass
    assert acc.oldest_seq == 1  # nothing reused inside the window
    # after the window the same append succeeds
    acc.append(16, b"later", ts + 10 ** 6)


def test_open_shift_is_never_reused():
    log, fm, acc = _new(log_blocks=4, retention=0)
    try:
        for i in range(1000):
            acc.append(16, b"x" * 100, T0 + i)
        assert False
    except JournalFull:
        pass
    assert acc.oldest_seq == 1 and acc.read(1)[2] == b"x" * 100
    acc.close_shift(b"z", T0 + 2000)
    acc.append(16, b"now fits", T0 + 2001)


def test_records_from_reused_seq_raise():
    log, fm, acc = _new(log_blocks=4, retention=0)
    for i in range(200):
        acc.append(16, b"y" * 100, T0 + i)
        if i % 10 == 9:
            acc.checkpoint(b"c", T0 + i)
            acc.close_shift(b"", T0 + i)
    try:
        acc.records(1)
        assert False
    except JournalError:
        pass
    got = list(acc.records(acc.oldest_seq))
    assert got[-1][0] == acc.last_seq - 2  # checkpoint and marker are internal... and the last ZCLOSE
    assert acc.last_checkpoint() is not None


def test_reading_past_end_of_device_is_an_error():
    log, fm, acc = _new()
    try:
        log.readblocks(8, bytearray(4))
        assert False
    except FlashError as e:
        assert e.args[0] == 22
    try:
        _reopen(NorFlash(2), fm)  # too small for a ring
        assert False
    except JournalError:
        pass


def test_reopen_twice_is_stable():
    log, fm, acc = _new()
    _fill(acc, 50)
    a1 = _reopen(log, fm)
    a2 = _reopen(log, fm)
    assert a1.last_seq == a2.last_seq == 50
    assert a1.chain == a2.chain == acc.chain
    assert a2.recovery["torn_bytes"] == 0


def test_kz_8_kz_nd_35_reserve_keeps_room_for_z_and_every_ack():
    # Ordinary records stop early enough that the caller's reserve (a Z
    # document, its close records) and the ACKs of every unacknowledged
    # document still fit; reserve=True appends and acks may use it.
    log, fm, acc = _new(log_blocks=6, retention=0)
    acc.reserve = (900, ZMARK_LEN, 300, 400, 950)
    acc.doc_reserve = (40, 30, 30)
    docs = []
    ts = T0
    while acc.can_append((160, 24), ts, 1):  # a sale and its sign record
        docs.append(acc.append(16, b"s" * 160, ts, need_ack=True))
        acc.append(19, b"g" * 24, ts)
        ts += 1
        assert len(docs) < 500
    assert len(docs) > 20 and acc.free_bytes(ts) < 1500  # about: sector ends not counted
    try:
        while True:  # without the check the journal refuses by itself
            docs.append(acc.append(16, b"s" * 160, ts, need_ack=True))
    except JournalFull as e:
        assert e.args == ("log",)
    last = acc.last_seq
    # the shift close: Z document (need_ack), its session and ack records
    z = acc.append(18, b"z" * 900, ts, need_ack=True, reserve=True)
    acc.close_shift(b"summary", ts)
    for ln in (300, 400):
        acc.append(22, b"c" * ln, ts, reserve=True)
    acc.checkpoint(b"k" * 950, ts)
    assert acc.last_seq == last + 5
    # the OFD comes back: every document (and the Z) is acknowledged
    for d in docs + [z]:
        acc.append(24, b"t" * 30, ts, reserve=True)
        acc.append(24, b"t" * 30, ts, reserve=True)
        acc.ack(d, b"s" * 36, ts)
    assert acc.unacked() == []
    acc2 = _reopen(log, fm, 0)
    assert acc2.self_test().ok and acc2.unacked() == []
    # everything before the checkpoint may now be reused: sales again
    assert acc2.can_append((160, 24), ts + 1, 1)
    acc2.append(16, b"s" * 160, ts + 1, need_ack=True)


def test_kz_8_kz_nd_35_reserve_outlives_two_power_cuts_on_a_full_log():
    # A cut tears the record being written and the rest of its sector is
    # lost; with cut_sectors = 2 ordinary records stop early enough that the
    # shift close and every ACK still fit after two such cuts (the Z
    # document torn, then torn again at the next boot).
    from boards.sim.nor_flash import PowerCut

    def reopen(log, fm):
        a = _reopen(log, fm, 10 ** 6)
        a.reserve = (900, ZMARK_LEN, 300, 950)
        a.doc_reserve = (40,)
        a.cut_sectors = 2
        return a

    log, fm, acc = _new(log_blocks=8, retention=10 ** 6)
    acc = reopen(log, fm)
    docs = []
    ts = T0
    try:
        while True:
            docs.append(acc.append(16, b"s" * 160, ts, need_ack=True))
            ts += 1
    except JournalFull:
        pass
    spare = acc.N - acc._count()
    assert spare >= 2  # whole sectors left besides the head's rest
    for cut in (1, 2):
        log.cut_after(100)
        try:
            acc.append(18, b"z" * 900, ts, need_ack=True, reserve=True)
            assert False
        except PowerCut:
            pass
        log.disarm()
        acc = reopen(log, fm)
        assert acc.recovery["torn_bytes"] > 0 and acc.unacked() == docs
    z = acc.append(18, b"z" * 900, ts, need_ack=True, reserve=True)
    acc.close_shift(b"summary", ts)
    acc.append(22, b"c" * 300, ts, reserve=True)
    acc.checkpoint(b"k" * 950, ts)
    for d in docs + [z]:
        acc.ack(d, b"s" * 36, ts)
    acc = reopen(log, fm)
    assert acc.unacked() == [] and acc.self_test().ok and acc.z_count() == 1


def test_can_append_agrees_with_append():
    import random

    rnd = random.Random(7) if hasattr(random, "Random") else random
    if not hasattr(random, "Random"):
        random.seed(7)
    log, fm, acc = _new(log_blocks=4, retention=50)
    acc.reserve = (500, 200)
    acc.doc_reserve = (40,)
    ts = T0
    seen = [0, 0]
    for i in range(400):
        ts += rnd.choice((1, 5, 30))
        ln = rnd.randint(0, 600)
        need = rnd.randint(0, 2) == 0
        pred = acc.can_append((ln,), ts, 1 if need else 0)
        try:
            acc.append(16, b"p" * ln, ts, need_ack=need)
            got = True
        except JournalFull:
            got = False
        assert pred == got
        seen[1 if got else 0] += 1
        u = acc.unacked()
        if u and rnd.randint(0, 2) == 0:
            acc.ack(u[0], b"sign", ts)
        if i % 37 == 36:
            acc.close_shift(b"", ts)
            acc.checkpoint(b"c", ts)
    assert seen[0] > 0 and seen[1] > 0
