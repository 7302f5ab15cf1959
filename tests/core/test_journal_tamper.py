# Tampering and damage the accumulator must catch, and the limits it states
# openly (docs/journal.md, "What the chain catches"). KZ-2.3, KZ-8, KZ-9,
# KZ-43.2. Someone here can read and program the raw flash (clear bits with
# a 4-argument writeblocks, erase sectors) but does not know the device key.
import struct

from boards.sim.nor_flash import NorFlash, PowerCut
from compat import crc32
from journal import Accumulator, JournalError, JournalFull, ZCLOSE

from journalkit import KEY, T0

SH = 52  # sector header; records follow it
SH_SIGNED = 36  # what a new sector's header programs (the release stamp stays blank)
from journalkit import new as _new
from journalkit import reopen as _reopen


def _fill(acc, n, ts=T0, size=40):
    for i in range(n):
        acc.append(16 + i % 3, bytes([i % 256]) * (size + i % 7), ts + i)


def _edit(dev, old, new):
    # Rewrite a stored payload in place and recompute the record's CRC-32,
    # as someone with a flash programmer and no key would.
    pos = bytes(dev.data).find(old)
    assert pos > 0
    start = pos
    while not (dev.data[start] == 0xA5 and start + 14 <= pos and
               struct.unpack_from("<H", dev.data, start + 12)[0] >= pos - start - 14 + len(old)):
        start -= 1
    ln = struct.unpack_from("<H", dev.data, start + 12)[0]
    end = start + 14 + ln + 36
    dev.data[pos : pos + len(new)] = new
    struct.pack_into("<I", dev.data, end - 4, crc32(bytes(dev.data[start : end - 4])))


def test_kz_43_2_kz_8_edited_unsent_document_of_an_older_shift_is_caught():
    # An offline receipt two shifts back is still waiting for the OFD: it is
    # what will be sent, so the self-test must verify it through the chain
    # even though its shift is older than the last closed one.
    log, fm, acc = _new()
    _fill(acc, 5)
    d = acc.append(16, b"OFFLINE amount=1000", T0 + 10, need_ack=True)
    _fill(acc, 5, T0 + 20)
    acc.close_shift(b"Z1", T0 + 30)
    _fill(acc, 5, T0 + 40)
    acc.close_shift(b"Z2", T0 + 50)
    _fill(acc, 5, T0 + 60)
    assert acc.unacked() == [d] and acc.self_test().ok
    _edit(log, b"OFFLINE amount=1000", b"OFFLINE amount=0010")
    acc2 = _reopen(log, fm)
    assert acc2.read(d)[2] == b"OFFLINE amount=0010"  # its CRC is fine
    r = acc2.self_test()
    assert not r.ok and r.reason == "record mac" and r.seq == d and r.shift == 1


def test_kz_43_2_edited_checkpoint_of_an_older_shift_is_caught():
    # The register restores its state from the latest checkpoint.
    log, fm, acc = _new()
    _fill(acc, 3)
    c = acc.checkpoint(b"CKPT total=5000", T0 + 5)
    acc.close_shift(b"Z1", T0 + 30)
    _fill(acc, 3, T0 + 40)
    acc.close_shift(b"Z2", T0 + 50)
    _fill(acc, 3, T0 + 60)
    assert acc.last_checkpoint() == c and acc.self_test().ok
    _edit(log, b"CKPT total=5000", b"CKPT total=9000")
    r = _reopen(log, fm).self_test()
    assert not r.ok and r.reason == "record mac" and r.seq == c


def test_kz_8_unsent_document_first_in_the_tail_sector_stays_verifiable():
    # The oldest unacknowledged document opens a sector; the ring wraps up to
    # it. The record before it must stay so that its chain input is known.
    log, fm, acc = _new(log_blocks=4, retention=0)
    ts = T0
    while acc.head < 0 or acc.head_off + 300 + 50 <= 4096:
        acc.append(16, b"a" * 100, ts)
        ts += 1
    d = acc.append(16, b"UNSENT amount=777" + b"u" * 283, ts, need_ack=True)
    assert acc.read(d) and acc.head_off == SH + 350  # first in its sector
    for i in range(2000):
        ts += 1
        try:
            acc.append(17, b"b" * 100, ts)
        except JournalFull:
            break
        if i % 10 == 9:
            acc.close_shift(b"", ts)
    assert acc.unacked() == [d] and acc.self_test().ok
    _edit(log, b"UNSENT amount=777", b"UNSENT amount=111")
    r = _reopen(log, fm, 0).self_test()
    assert not r.ok and r.seq == d


def test_kz_9_bits_cleared_over_many_tail_records_are_not_a_torn_write():
    # A power cut tears at most the one record being written (at most
    # 2 098 bytes). Receipts at the end of the log whose bytes were damaged
    # over more than that must be reported, not skipped as a torn tail.
    log, fm, acc = _new()
    for i in range(11):
        acc.append(16, bytes([65 + i]) * 300, T0 + i)  # 350 bytes each, one sector
    assert acc.head == 0
    base = SH
    for k in range(4, 11):  # the magic byte of the last 7 records -> 0x00
        log.writeblocks(0, b"\x00", base + k * 350)
    acc2 = _reopen(log, fm)
    assert acc2.recovery.get("damaged") == 5
    r = acc2.self_test()
    assert not r.ok and r.reason == "damaged" and r.seq == 5


def test_limit_the_last_record_alone_looks_like_a_power_cut():
    # Stated limit: damage confined to the last record cannot be told from
    # a write torn by a power cut; it is dropped and counted in torn_bytes.
    log, fm, acc = _new()
    for i in range(11):
        acc.append(16, bytes([65 + i]) * 300, T0 + i)
    log.writeblocks(0, b"\x00", SH + 10 * 350)
    acc2 = _reopen(log, fm)
    assert acc2.last_seq == 10 and acc2.recovery["torn_bytes"] == 350
    assert acc2.self_test().ok


def test_kz_9_replayed_record_at_the_end_is_reported_not_a_crash():
    # A copy of an earlier record programmed into the blank end of the head
    # sector (no erase needed): the log still opens, the self-test fails.
    log, fm, acc = _new()
    _fill(acc, 6)
    start = bytes(log.data).find(bytes([0xA5, 16]), SH)  # record 1
    rec = bytes(log.data[start : start + 14 + 40 + 36])
    log.writeblocks(acc.head, rec, acc.head_off)
    acc2 = _reopen(log, fm)
    assert acc2.last_seq == 6 and acc2.recovery.get("damaged") == 7
    r = acc2.self_test()
    assert not r.ok and r.reason == "damaged"


def test_kz_43_2_forged_record_at_the_end_is_caught():
    # A new record with the next seq and a valid CRC but no key: its chain
    # value cannot be right.
    log, fm, acc = _new()
    _fill(acc, 6)
    rec = bytearray(14 + 8 + 36)
    struct.pack_into("<BBBBIIH", rec, 0, 0xA5, 16, 0, 0, 7, T0 + 99, 8)
    rec[14:22] = b"forgery!"
    rec[22:54] = acc.chain  # the previous value, the best a forger has
    struct.pack_into("<I", rec, 54, crc32(bytes(rec[0:54])))
    log.writeblocks(acc.head, rec, acc.head_off)
    acc2 = _reopen(log, fm)
    assert acc2.last_seq == 7
    r = acc2.self_test()
    assert not r.ok and r.reason == "record mac" and r.seq == 7


def test_limit_rollback_or_erased_tail_is_not_detectable_on_the_device():
    # Stated limit: someone who can erase and reprogram sectors can put back
    # an older image of both areas, or cut the open shift short by
    # rewriting its sectors with their first records only. Every remaining
    # chain value is genuine, so no local check can tell; the OFD's copy of
    # what it acknowledged is the outside reference (docs/journal.md).
    log, fm, acc = _new()
    _fill(acc, 5)
    acc.close_shift(b"Z1", T0 + 10)
    _fill(acc, 5, T0 + 20)
    old_l, old_f = log.snapshot(), fm.snapshot()
    _fill(acc, 5, T0 + 30)
    acc.close_shift(b"Z2", T0 + 40)
    _fill(acc, 5, T0 + 50)
    log.restore(old_l)
    fm.restore(old_f)
    acc2 = _reopen(log, fm)
    assert acc2.last_seq == 11 and acc2.z_count() == 1 and acc2.self_test().ok
    # the log alone rolled back past the last Z: caught (records missing)
    log2, fm2, acc = _new()
    _fill(acc, 5)
    snap = log2.snapshot()
    _fill(acc, 2, T0 + 5)
    acc.close_shift(b"Z1", T0 + 10)
    _fill(acc, 2, T0 + 20)
    log2.restore(snap)
    r = _reopen(log2, fm2).self_test()
    assert not r.ok and r.reason == "records missing"


def test_kz_28_power_cut_during_recovery_marker_write():
    # Two cuts in a row: the first between the Z slot and its marker, the
    # second inside the marker the next open writes (in the head sector, or
    # in a new sector of a wrapped ring: erase, header, record).
    def small(acc):
        _fill(acc, 5)

    def to_sector_end(acc):
        ts = T0
        for j in range(4):
            while acc.head < 0 or acc.head_off + 250 <= 4096:
                acc.append(16, b"f" * 200, ts)
                ts += 1
            acc.close_shift(b"", ts)
        while 4096 - acc.head_off >= 70:  # the marker (70 bytes) will not fit
            acc.append(16, b"", ts)

    for fill in (small, to_sector_end):
        log, fm, acc = _new(log_blocks=4, fm_blocks=1, retention=0)
        fill(acc)
        last = acc.last_seq
        z0 = acc.z_count()
        log.cut_after(0)  # the Z slot is written, the marker is not
        try:
            acc.close_shift(b"ZZ", T0 + 5000)
            assert False
        except PowerCut:
            pass
        log.disarm()
        snap_l, snap_f = log.snapshot(), fm.snapshot()
        p0 = log.bytes_programmed
        e0 = sum(log.erase_counts)
        a = _reopen(log, fm, 0)
        assert a.recovery["z_marker_rewritten"] == z0 + 1
        span = log.bytes_programmed - p0
        erased = sum(log.erase_counts) > e0
        assert span >= 70 and erased == (fill is to_sector_end)
        points = list(range(span + 1)) + ([-1] if erased else [])
        for c in points:
            log.restore(snap_l)
            fm.restore(snap_f)
            if c < 0:
                log.cut_erase()
            else:
                log.cut_after(c)
            try:
                _reopen(log, fm, 0)
            except PowerCut:
                pass
            log.disarm()
            a = _reopen(log, fm, 0)
            assert a.z_count() == z0 + 1 and a.z_last_seq == last
            assert a.last_seq == last + 1 and a.read(last + 1)[0] == ZCLOSE
            r = a.self_test()
            assert r.ok, (c, r)
            s = a.append(16, b"after", T0 + 6000)
            assert a.read(s)[2] == b"after" and a.self_test().ok


def test_kz_28_append_reads_back_what_the_chip_programmed():
    # On a real chip programming over bytes that are not blank fails
    # silently. The append must not return (no fiscal sign printed) for a
    # record that is not in flash as built; the next one goes to a fresh
    # sector and everything already stored stays.
    log = NorFlash(8, strict=False)
    fm = NorFlash(2, strict=False)
    acc = Accumulator(log, fm, KEY, 3600)
    _fill(acc, 5)
    log.writeblocks(acc.head, b"\x00" * 8, acc.head_off + 20)
    try:
        acc.append(16, b"not stored as built", T0 + 10)
        assert False
    except JournalError as e:
        assert e.args == ("write verify", 6)
    assert acc.last_seq == 5
    s = acc.append(16, b"next", T0 + 11)
    assert s == 6 and acc.read(6) == (16, T0 + 11, b"next")
    acc2 = _reopen(log, fm)
    assert acc2.last_seq == 6 and [r[0] for r in acc2.records(1)] == [1, 2, 3, 4, 5, 6]
    assert acc2.self_test().ok


def test_kz_nd_29_z_slot_read_back_after_programming():
    # A Z slot that did not program as built is not counted: the close
    # raises, the next close takes the next slot.
    log = NorFlash(8)
    fm = NorFlash(2, strict=False)
    acc = Accumulator(log, fm, KEY, 3600)
    _fill(acc, 3)
    fm.writeblocks(0, b"\x00\x00", 300)  # inside slot 0 (its chain value)
    try:
        acc.close_shift(b"Z1", T0 + 10)
        assert False
    except JournalError as e:
        assert e.args == ("fm write verify", 1)
    assert acc.z_count() == 0
    assert acc.close_shift(b"Z1", T0 + 11) == 1
    acc2 = _reopen(log, fm)
    assert acc2.z_count() == 1 and acc2.read_z(1)[1] == b"Z1"
    assert acc2.self_test().ok


class _DropsOneHeader(NorFlash):
    # A chip that leaves one sector header unprogrammed and says nothing.
    drop = False

    def writeblocks(self, block, buf, offset=None):
        if self.drop and offset == 0 and len(buf) == SH_SIGNED:
            self.drop = False
            return
        NorFlash.writeblocks(self, block, buf, offset)


def test_kz_28_sector_header_read_back_before_records_go_in():
    # Records in a sector whose header did not program would be invisible
    # after a reboot: the header is read back, the append fails, the next
    # one prepares the sector again.
    log = _DropsOneHeader(4)
    fm = NorFlash(1)
    acc = Accumulator(log, fm, KEY, 0)
    ts = T0
    while acc.head < 1:
        acc.append(16, b"h" * 300, ts)
        ts += 1
    while acc.head_off + 350 <= 4096:
        acc.append(16, b"h" * 300, ts)
        ts += 1
    last = acc.last_seq
    log.drop = True
    try:
        acc.append(16, b"x" * 300, ts)
        assert False
    except JournalError as e:
        assert e.args == ("write verify", last + 1)
    s = acc.append(16, b"y" * 300, ts)
    assert s == last + 1 and acc.head == 2
    acc2 = _reopen(log, fm, 0)
    assert acc2.last_seq == s and acc2.read(s)[2] == b"y" * 300
    assert acc2.self_test().ok


def test_kz_nd_29_close_returns_the_z_when_its_marker_write_fails():
    # The Z is in fiscal memory once its slot is written: a failed marker
    # write must not make the caller believe the close failed (a retry
    # would close a second shift). The marker goes before the next record.
    log = NorFlash(8, strict=False)
    fm = NorFlash(1)
    acc = Accumulator(log, fm, KEY, 3600)
    _fill(acc, 4)
    log.writeblocks(acc.head, b"\x00" * 4, acc.head_off + 30)
    assert acc.close_shift(b"Z1", T0 + 50) == 1
    assert acc.z_count() == 1 and acc.last_seq == 4
    s = acc.append(16, b"next shift", T0 + 60)
    assert s == 6 and acc.read(5)[0] == ZCLOSE
    assert acc.self_test().ok and _reopen(log, fm).self_test().ok


def test_kz_28_power_cut_in_a_reuse_erase_that_keeps_the_old_header():
    # An interrupted erase may leave the start of the sector (where its
    # header is) as it was and the rest half erased. The sector is released
    # first (a keyed stamp in the next sector's header), so after the
    # reboot that sector holds nothing:
    # every record still counted as kept reads back, the next sector change
    # erases it again.
    log, fm, acc = _new(log_blocks=4, retention=0)
    ts = T0
    docs = []
    while acc.oldest_seq == 1:
        docs.append(acc.append(17, b"unsent %d" % ts + b"r" * 200, ts, need_ack=True))
        while len(docs) > 2:
            acc.ack(docs.pop(0), b"ok", ts)
        if ts % 10 == 0:
            acc.close_shift(b"", ts)
        ts += 1
    while acc.head_off + 250 <= 4096:  # up to the next sector change
        acc.append(16, b"q" * 150, ts)
        ts += 1
    last, tail = acc.last_seq, acc.tail
    log.cut_erase(True)
    try:
        acc.append(16, b"q" * 150, ts)
        assert False
    except PowerCut:
        pass
    log.disarm()
    a = _reopen(log, fm, 0)
    assert a.last_seq == last and a.tail == (tail + 1) % 4 and a.unacked() == docs
    assert a.self_test().ok
    assert [r[0] for r in a.records(a.oldest_seq)][-1] == last
    for d in docs:
        assert a.read(d)[2].startswith(b"unsent")
    s = a.append(16, b"after" * 30, ts + 1)
    assert a.read(s)[2] == b"after" * 30 and a.head == tail
    assert _reopen(log, fm, 0).self_test().ok


class _FailsOneWrite(NorFlash):
    # A write that raises before the chip programmed anything.
    fail = False

    def writeblocks(self, block, buf, offset=None):
        if self.fail:
            self.fail = False
            raise OSError(5)
        NorFlash.writeblocks(self, block, buf, offset)


def test_kz_nd_29_z_slot_left_blank_by_a_failed_write_is_used_next():
    # A slot the failed write never touched must not stay a blank hole
    # before later Z slots (the open finds the end of the Z area by a
    # binary search for the first blank slot).
    log = NorFlash(8)
    fm = _FailsOneWrite(1)
    acc = Accumulator(log, fm, KEY, 3600)
    _fill(acc, 3)
    assert acc.close_shift(b"Z1", T0 + 10) == 1
    _fill(acc, 3, T0 + 20)
    fm.fail = True
    try:
        acc.close_shift(b"Z2", T0 + 30)
        assert False
    except OSError:
        pass
    assert acc.z_count() == 1 and acc.z_slots_left() == 11
    assert acc.close_shift(b"Z2", T0 + 31) == 2
    _fill(acc, 3, T0 + 40)
    acc2 = _reopen(log, fm)
    assert acc2.z_count() == 2 and acc2.read_z(2)[1] == b"Z2"
    assert acc2.z_slots_left() == 10 and acc2.self_test().ok


def test_kz_9_damaged_record_before_the_keep_line_fails_the_test_not_the_caller():
    # The self-test starts from the chain value of the record just before
    # the oldest unsent document: damage there is a failed test (lock),
    # never an exception out of self_test().
    log, fm, acc = _new()
    _fill(acc, 5)
    acc.append(16, b"JUST-BEFORE", T0 + 9)
    d = acc.append(16, b"OFFLINE doc", T0 + 10, need_ack=True)
    acc.close_shift(b"Z1", T0 + 30)
    _fill(acc, 3, T0 + 40)
    acc.close_shift(b"Z2", T0 + 50)
    _fill(acc, 3, T0 + 60)
    pos = bytes(log.data).find(b"JUST-BEFORE")
    log.data[pos] ^= 0x10
    a = _reopen(log, fm)
    assert a.unacked() == [d]
    r = a.self_test()
    assert not r.ok and r.seq in (d - 1, d)


def _rewrite_header(log, s, **fields):
    # A sector header rebuilt by someone without the key: the fields as
    # wanted, and the best check value such a person can compute (a CRC-32
    # of the fields, where an unkeyed header kept it).
    a = s * 4096
    h = bytearray(log.data[a : a + 24])
    names = ("gen", "first", "ts_max", "keep")
    v = list(struct.unpack_from("<IIII", h, 4))
    for k in fields:
        v[names.index(k)] = fields[k]
    struct.pack_into("<IIII", h, 4, *v)
    struct.pack_into("<I", h, 20, crc32(bytes(h[0:20])))
    return bytes(h)


def _unsent_over_two_sectors(log_blocks=8, retention=3600):
    # unsent documents in sectors 0 and 1, the head is sector 1
    log, fm, acc = _new(log_blocks=log_blocks, retention=retention)
    docs = []
    ts = T0
    while acc.head < 1 or acc.head_off < 2200:
        docs.append(acc.append(16, b"UNSENT %d " % ts + b"u" * 200, ts, need_ack=True))
        acc.append(17, b"s" * 100, ts)
        ts += 1
    return log, fm, acc, docs, ts


def test_kz_43_2_forged_header_in_the_blank_next_sector_hides_nothing():
    # A header programmed into the blank sector after the head (no erase
    # needed) that names the next seq and raises the keep line: it must not
    # become the end of the log and empty the OFD queue.
    log, fm, acc, docs, ts = _unsent_over_two_sectors()
    last = acc.last_seq
    h = _rewrite_header(log, acc.head, gen=acc.head_gen + 1, first=last + 1, keep=last + 1)
    log.writeblocks(acc.head + 1, h, 0)
    a = _reopen(log, fm)
    assert a.head == 1 and a.last_seq == last and a.unacked() == docs
    assert a.self_test().ok  # a header torn by a power cut looks the same
    s = a.append(16, b"after" * 400, ts)  # prepares that sector again
    assert a.head == 2 and _reopen(log, fm).unacked() == docs and a.read(s)[2] == b"after" * 400


def test_kz_43_2_head_header_rewritten_with_a_raised_keep_line_is_caught():
    # The head sector erased and programmed again with its own records and
    # a header whose keep line is raised past every unsent document: the
    # queue must not shrink, and the change must be reported, also after
    # the log has grown past that sector.
    log, fm, acc, docs, ts = _unsent_over_two_sectors()
    last = acc.last_seq
    head = acc.head
    a0 = head * 4096
    img = bytearray(log.data[a0 : a0 + 4096])
    img[0:24] = _rewrite_header(log, head, keep=last + 1)
    log.ioctl(6, head)
    log.writeblocks(head, img, 0)
    a = _reopen(log, fm)
    assert a.head == head and a.last_seq == last and a.unacked() == docs
    assert a.recovery.get("damaged") is not None
    r = a.self_test()
    assert not r.ok and r.reason == "damaged"
    s = a.append(16, b"x" * 2000, ts)
    assert a.head == head + 1
    a = _reopen(log, fm)
    assert a.last_seq == s and a.unacked() == docs and a.recovery.get("damaged") is not None
    assert not a.self_test().ok


def _reused_ring():
    # a ring that went round, just after its head sector was reused
    log, fm, acc = _new(log_blocks=4, retention=0)
    ts = T0
    docs = []
    while acc.head_gen < 6 or acc.head_off > 600:
        docs.append(acc.append(17, b"doc %d " % ts + b"r" * 200, ts, need_ack=True))
        acc.ack(docs.pop(0), b"ok", ts)
        if ts % 10 == 0:
            acc.close_shift(b"", ts)
        ts += 1
    return log, fm, acc, ts


def test_kz_43_2_cleared_header_of_the_newest_sector_of_a_reused_ring_is_caught():
    # Clearing bits (no erase) in the header of the newest sector of a ring
    # that went round hides it; it must be reported, not taken for a sector
    # whose reuse a power cut interrupted.
    log, fm, acc, ts = _reused_ring()
    head, last = acc.head, acc.last_seq
    assert acc.tail == (head + 1) % 4
    log.writeblocks(head, b"\x00", 8)  # a byte of its first seq
    a = _reopen(log, fm, 0)
    assert a.head == head and a.last_seq == last  # its records still count
    assert a.recovery.get("damaged") is not None
    assert not a.self_test().ok


def test_kz_8_cleared_header_of_the_oldest_sector_is_caught():
    # Clearing a bit in the header of the oldest sector, which holds an
    # unsent document, must not drop it silently (as if a power cut had
    # interrupted its reuse).
    log, fm, acc, ts = _reused_ring()
    d = acc.append(17, b"UNSENT", ts, need_ack=True)
    try:
        while True:
            ts += 1
            acc.append(16, b"q" * 200, ts)
    except JournalFull:
        pass
    assert acc._sectors_from(d) == 0 and acc.unacked() == [d]
    tail = acc.tail
    log.writeblocks(tail, b"\x00", 8)
    a = _reopen(log, fm, 0)
    assert a.tail == tail and a.unacked() == [d] and a.read(d)[2] == b"UNSENT"
    assert a.recovery.get("damaged") is not None
    assert not a.self_test().ok
    a.ack(d, b"sent at last", ts)
    a.close_shift(b"", ts)  # nothing more to keep in that sector
    try:  # the records it holds are evidence: never erased
        while True:
            ts += 1
            a.append(16, b"q" * 200, ts)
    except JournalError as e:
        assert e.args[0] == "hidden"
    assert a.tail == tail and log.data[tail * 4096 + 52] == 0xA5


def test_kz_9_copy_of_a_record_older_than_the_scan_start_is_reported():
    # The open scans from the head sector's keep line; a copy of a record
    # from before it, programmed into the blank end of the log, is a copy
    # all the same (docs/journal.md, "What the chain catches").
    log, fm, acc = _new()
    _fill(acc, 3)
    old = bytes(log.data[SH : SH + 14 + 40 + 36])  # record 1
    ts = T0 + 10
    acc.close_shift(b"Z1", ts)
    while acc.head < 1:  # the next sector's keep line is the shift's start
        acc.append(16, b"f" * 300, ts)
        ts += 1
    last = acc.last_seq
    log.writeblocks(acc.head, old, acc.head_off)
    a = _reopen(log, fm)
    assert a.last_seq == last and a.recovery.get("damaged") == last + 1
    r = a.self_test()
    assert not r.ok and r.reason == "damaged"


def test_kz_28_power_cut_anywhere_in_a_sector_reuse_is_not_damage():
    # The keyed checks must not take a power cut for tampering: a cut at
    # every byte of a sector change that reuses the oldest sector (release
    # stamp, erase, header, stamp used up, record) and inside the erase
    # leaves a log that opens clean, keeps the queue and takes appends.
    log, fm, acc, ts = _reused_ring()
    d = acc.append(17, b"UNSENT", ts, need_ack=True)
    while acc.head_off + 260 <= 4096:
        ts += 1
        acc.append(16, b"q" * 200, ts)
    last = acc.last_seq
    snap_l, snap_f = log.snapshot(), fm.snapshot()
    p0 = log.bytes_programmed
    tail = acc.tail
    acc.append(16, b"n" * 200, ts + 1)
    span = log.bytes_programmed - p0
    assert acc.head == tail and span == 16 + 36 + 16 + 250
    for c in list(range(span)) + [-1, -2]:
        log.restore(snap_l)
        fm.restore(snap_f)
        a = _reopen(log, fm, 0)
        if c == -1:
            log.cut_erase()
        elif c == -2:
            log.cut_erase(True)
        else:
            log.cut_after(c)
        try:
            a.append(16, b"n" * 200, ts + 1)
            assert False
        except PowerCut:
            pass
        log.disarm()
        a = _reopen(log, fm, 0)
        assert "damaged" not in a.recovery, (c, a.recovery)
        assert a.last_seq == last and a.unacked() == [d] and a.self_test().ok, c
        s = a.append(16, b"after", ts + 2)
        b = _reopen(log, fm, 0)
        assert b.read(s)[2] == b"after" and b.unacked() == [d] and b.self_test().ok, c


def _forge(acc, log, rtype, payload, ts):
    # a record after the last one with a valid CRC, made without the key
    ln = len(payload)
    rec = bytearray(14 + ln + 36)
    struct.pack_into("<BBBBIIH", rec, 0, 0xA5, rtype, 0, 0, acc.last_seq + 1, ts, ln)
    rec[14 : 14 + ln] = payload
    rec[14 + ln : 14 + ln + 32] = acc.chain
    struct.pack_into("<I", rec, 14 + ln + 32, crc32(bytes(rec[0 : 14 + ln + 32])))
    log.writeblocks(acc.head, rec, acc.head_off)


def test_kz_8_forged_acknowledgement_does_not_take_a_document_off_the_queue():
    # An ACK record with a valid CRC but no key, programmed after the last
    # record, names the oldest unsent document: the self-test fails (record
    # mac) and the document stays queued: only the device's own ACK counts.
    log, fm, acc = _new()
    _fill(acc, 3)
    d = acc.append(16, b"UNSENT", T0 + 5, need_ack=True)
    _fill(acc, 3, T0 + 6)
    _forge(acc, log, 1, struct.pack("<I", d) + b"fake sign", T0 + 99)  # 1: ACK
    a = _reopen(log, fm)
    r = a.self_test()
    assert not r.ok and r.reason == "record mac" and r.seq == a.last_seq
    assert a.unacked() == [d] and a.oldest_unacked_ts() == T0 + 5
    a.ack(d, b"real sign", T0 + 100)  # the OFD's answer still goes in
    assert a.unacked() == [] and _reopen(log, fm).self_test().reason == "record mac"


def test_kz_43_2_forged_checkpoint_does_not_move_the_keep_line():
    # The open takes the latest checkpoint for the keep line and the
    # register's restart; one forged after the last record fails the
    # self-test, which then holds to the last checkpoint the chain vouches for.
    log, fm, acc = _new()
    _fill(acc, 3)
    c = acc.checkpoint(b"CKPT real", T0 + 5)
    _fill(acc, 3, T0 + 6)
    _forge(acc, log, 2, b"CKPT forged", T0 + 99)  # 2: CHECKPOINT
    a = _reopen(log, fm)
    assert a.last_checkpoint() == a.last_seq
    r = a.self_test()
    assert not r.ok and r.reason == "record mac" and a.last_checkpoint() == c


def test_kz_2_3_every_closed_shift_verifies_against_its_z_chain():
    # The power-on test re-reads the last closed shift; verify_shift checks
    # any of them (the journal reader checks all): an acknowledged receipt
    # edited two shifts back is found there, in its shift, by its record.
    log, fm, acc = _new()
    _fill(acc, 4)
    d = acc.append(16, b"SOLD amount=1000", T0 + 10)
    acc.close_shift(b"Z1", T0 + 20)
    _fill(acc, 3, T0 + 30)
    acc.close_shift(b"Z2", T0 + 40)
    _fill(acc, 2, T0 + 50)
    acc.close_shift(b"Z3", T0 + 60)
    rs = [acc.verify_shift(n) for n in (1, 2, 3)]
    assert [r.ok for r in rs] == [True] * 3
    assert [r.records for r in rs] == [5, 4, 3]  # shifts 2 and 3 open with the ZCLOSE marker
    _edit(log, b"SOLD amount=1000", b"SOLD amount=0001")
    acc2 = _reopen(log, fm)
    assert acc2.self_test().ok  # the last closed shift is intact
    r = acc2.verify_shift(1)
    assert not r.ok and r.reason == "record mac" and r.seq == d and r.shift == 1
    assert acc2.verify_shift(2).ok and acc2.verify_shift(3).ok
    try:
        acc2.verify_shift(4)
        refused = False
    except JournalError:
        refused = True
    assert refused  # no Z 4 yet
