# Fiscal data accumulator: hash-chained record log + fiscal-memory Z area.
# Byte layout and the reasoning behind it: docs/journal.md.

import struct
from compat import Hmac, const, crc32

ACK = 1
CHECKPOINT = 2
ZCLOSE = 3
MAX_PAYLOAD = 2048
MAX_SUMMARY = 256
Z_LOW = 30
ZMARK_LEN = 20  # payload of a ZCLOSE marker
ACK_ROOM = 40  # payload reserved for the ACK of each unacknowledged document
RECORD_OVERHEAD = 50  # header, chain value and CRC around every payload
# Power cuts a full log outlives (a cut, and another during the recovery that
# follows): a cut tears the record being written and the rest of its sector
# is never used, so ordinary appends may leave that many whole sectors free
# besides the reserve (acc.cut_sectors; docs/journal.md, "Reserve").
CUT_SECTORS = 2

# Sector header: magic, generation, first seq, running max ts, keep seq,
# keyed MAC of those (16), release stamp (16, blank until the sector
# before this one is released for reuse).
_SH_FMT = "<4sIIII"
_SH = const(52)
_SH_MAC = const(20)
_SH_REL = const(36)
_SMAGIC = b"FJS2"
_NO_STAMP = b"\x00" * 16  # a release stamp used up: its sector was rewritten
# Record header: magic, type, flags, reserved, seq, ts, payload length.
_RH_FMT = "<BBBBIIH"
_RH = const(14)
_RMAGIC = const(0xA5)
_CHAIN = const(32)
_TRAILER = const(36)  # chain value + crc32
_F_NEED_ACK = const(1)
# Fiscal-memory slot: magic, z number, ts, last seq, summary length; summary
# (256), chain (32), zmac (16), crc32 (4), 12 bytes left unwritten.
_ZH_FMT = "<2sIIIH"
_ZH = const(16)
_ZSLOT = const(336)
_Z_CHAIN_AT = const(272)
_Z_MAC_AT = const(304)
_Z_CRC_AT = const(320)
_ZMAGIC = b"FZ"
_U32 = const(0xFFFFFFFF)
# the last sequence: never reused, it is the autonomous sign (KZ-29.3) the
# protocol's uint32 fields carry, and they stop at 2^31 - 1 (PROTOCOL.md 1)
LAST_SEQ = const(0x7FFFFFFF)


class JournalError(Exception):
    pass


class JournalFull(JournalError):
    # args[0]: "log" (space held by data that must be kept) or "fm" (no Z slot)
    pass


class JournalCorrupt(JournalError):
    pass


class SelfTestResult:
    def __init__(self, ok, shift=None, seq=None, reason="ok"):
        self.ok = ok
        self.shift = shift
        self.seq = seq
        self.reason = reason
        self.records = 0  # records verified one by one
        self.z_checked = 0  # Z summaries verified through their chain

    def __repr__(self):
        return "SelfTestResult(ok=%r, shift=%r, seq=%r, reason=%r)" % (
            self.ok,
            self.shift,
            self.seq,
            self.reason,
        )


def _all_ff(buf, start, end):
    ff = b"\xff" * 64
    i = start
    while i + 64 <= end:
        if buf[i : i + 64] != ff:
            return False
        i += 64
    while i < end:
        if buf[i] != 0xFF:
            return False
        i += 1
    return True


class Accumulator:
    def __init__(self, log_dev, fm_dev, key, retention_s=30 * 86400, reserve=None, doc_reserve=None):
        if not key:
            raise JournalError("key")
        self.dev = log_dev
        self.fm = fm_dev
        self.retention_s = retention_s
        # Space ordinary appends must always leave free (docs/journal.md,
        # "Space"): records of these payload lengths (by default a Z marker
        # and one checkpoint of the largest size) plus, for every
        # unacknowledged document, records of the lengths in doc_reserve
        # (by default its ACK). Appends with reserve=True (and acks,
        # checkpoints, Z markers) may use it. The caller may change both.
        self.reserve = (ZMARK_LEN, MAX_PAYLOAD) if reserve is None else tuple(reserve)
        self.doc_reserve = (ACK_ROOM,) if doc_reserve is None else tuple(doc_reserve)
        # and whole sectors for records torn by power cuts (CUT_SECTORS)
        self.cut_sectors = 0
        self._m = Hmac(key)
        self.genesis = self._m.mac(b"KZ fiscal journal genesis")
        self.S = log_dev.ioctl(5, 0)
        self.N = log_dev.ioctl(4, 0)
        if self.N < 3 or self.S < 512:
            raise JournalError("log device too small")
        fs = fm_dev.ioctl(5, 0)
        self.z_per_block = fs // _ZSLOT
        self.z_total = fm_dev.ioctl(4, 0) * self.z_per_block
        self._buf = bytearray(self.S)
        self._buf_sector = -1
        self._sh = bytearray(_SH)
        self.recovery = {}
        self._open()

    # ------------------------------------------------------------------
    # low-level reads

    def _read_sector(self, s):
        if self._buf_sector != s:
            self._buf_sector = -1
            self.dev.readblocks(s, self._buf, 0)
            self._buf_sector = s
        return self._buf

    def _hdr(self, s):
        # -> (gen, first_seq, ts_max, keep_seq) or None when not valid; the
        # header's bytes stay in self._sh
        b = self._sh
        self.dev.readblocks(s, b, 0)
        if b[0:4] != _SMAGIC:
            return None
        if self._m.mac(b"S", memoryview(b)[0:_SH_MAC])[:16] != b[_SH_MAC:_SH_REL]:
            return None
        return struct.unpack_from("<IIII", b, 4)

    def _stamp(self):
        # the release stamp that fits the header in self._sh
        return self._m.mac(b"R", memoryview(self._sh)[0:_SH_REL])[:16]

    def _released(self, s):
        # Does sector s (valid header) say that the sector before it was
        # released for reuse and has no new header yet?
        return self._hdr(s) is not None and self._sh[_SH_REL:_SH] == self._stamp()

    def _parse(self, buf, off):
        # One record at off of a sector buffer.
        # -> (seq, rtype, flags, ts, length, size) or None (end, blank or torn)
        S = self.S
        if off + _RH + _TRAILER > S or buf[off] != _RMAGIC:
            return None
        m, rtype, flags, rsv, seq, ts, ln = struct.unpack_from(_RH_FMT, buf, off)
        end = off + _RH + ln + _TRAILER
        if ln > MAX_PAYLOAD or end > S:
            return None
        (crc,) = struct.unpack_from("<I", buf, end - 4)
        if crc32(memoryview(buf)[off : end - 4]) != crc:
            return None
        return (seq, rtype, flags, ts, ln, end - off)

    def _next(self, buf, off, want):
        # Next valid record at or after off: (off, record, damaged) or None.
        # A blank rest of sector is the end; bytes that are neither a record
        # nor blank are a torn tail, unless a later record (seq >= want)
        # follows them: then they are a damaged record (a gap, never skipped
        # silently: walks raise JournalCorrupt and the self-test fails).
        r = self._parse(buf, off)
        if r is not None:
            return (off, r, False)
        S = self.S
        if _all_ff(buf, off, S):
            return None
        p = off
        while True:
            p = buf.find(b"\xa5", p + 1)
            if p < 0 or p > S - _RH - _TRAILER:
                return None
            r = self._parse(buf, p)
            if r is not None and r[0] >= want:
                return (p, r, True)

    def _sectors_from(self, seq):
        # Ring index (0 = tail) of the sector holding seq: the last retained
        # sector whose first seq is <= seq.
        lo, hi = 0, self._count() - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            h = self._hdr((self.tail + mid) % self.N)
            if h is not None and h[1] <= seq:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def _count(self):
        if self.head < 0:
            return 0
        return (self.head - self.tail) % self.N + 1

    def _scan(self, since):
        # Every record from the first with seq >= since to the head, in log
        # order (a copy of an older record after it too: the caller tells),
        # from the sector holding since: yields (r, off, damaged, buf) with
        # r as _parse gives it; buf is valid until the next step.
        n = self._count()
        i = self._sectors_from(since)
        started = False
        while i < n:
            s = (self.tail + i) % self.N
            buf = self._read_sector(s)
            off = _SH
            prev = 0
            while True:
                x = self._next(buf, off, prev + 1)
                if x is None:
                    break
                off, r, damaged = x
                prev = r[0]
                if prev >= since:
                    started = True
                if started:
                    yield (r, off, damaged, buf)
                    # the caller may have read another sector meanwhile
                    buf = self._read_sector(s)
                off += r[5]
            i += 1

    def _walk(self, since, upto):
        # Yields (seq, rtype, flags, ts, buf, off, length) for since..upto in
        # order; each yielded buffer view is valid until the next step.
        # Raises JournalCorrupt on a gap in the sequence.
        if upto < since or self.head < 0:
            return
        expect = since
        for x in self._scan(since):
            r = x[0]
            seq = r[0]
            if seq < expect:
                continue
            if seq != expect or x[2]:
                raise JournalCorrupt("gap", expect)
            yield (seq, r[1], r[2], r[3], x[3], x[1], r[4])
            expect += 1
            if expect > upto:
                return
        raise JournalCorrupt("missing", expect)

    # ------------------------------------------------------------------
    # open and recovery

    def _open(self):
        N = self.N
        self.head = -1
        self.head_gen = 0
        self.head_off = self.S
        self.tail = 0
        self.last_seq = 0
        self.last_ts = 0
        self.ts_max = 0
        self.chain = self.genesis
        self._docs = []  # unacknowledged documents: seq
        self._docts = []  # and their ts
        self._d0 = 0  # index of the oldest unacknowledged entry
        self._ckpt = None
        self._start = 1  # where the open's scan starts
        self._marker_due = False
        torn = 0
        h0 = self._hdr(0)
        if h0 is not None and h0[0] >= 1 and (h0[0] - 1) % N == 0:
            g0 = h0[0]
            lo, hi = 0, N - 1
            while lo < hi:
                mid = (lo + hi + 1) // 2
                h = self._hdr(mid)
                if h is not None and h[0] == g0 + mid:
                    lo = mid
                else:
                    hi = mid - 1
            self.head = lo
            self.head_gen = g0 + lo
        else:
            # Fresh device, or sector 0 was being prepared when power failed.
            best = None
            for s in range(N):
                h = self._hdr(s)
                if h is not None and (best is None or h[0] > best[0]):
                    best = (h[0], s)
            if best is not None:
                self.head_gen, self.head = best
        shaped = self.head < 0 or self._find_tail()
        self._open_fm()
        if self.head >= 0:
            hh = self._hdr(self.head)
            # End of the log: scan the head sector, and the next one when its
            # header was cleared or rewritten but its records go on: they
            # still count (a header never shrinks the queue; reported).
            while True:
                buf = self._read_sector(self.head)
                off = _SH
                prev = 0
                while True:
                    x = self._next(buf, off, prev + 1)
                    if x is None:
                        break
                    off = x[0] + x[1][5]
                    prev = x[1][0]
                s = (self.head + 1) % N
                if shaped or s == self.tail or not prev or self._first_seq(s) != prev + 1:
                    break
                self.head = s
                self.head_gen += 1
            if _all_ff(buf, off, self.S):
                self.head_off = off
            else:
                # Torn tail: ignore it, never reuse its bytes.
                end = self.S
                while end - 64 > off and _all_ff(buf, end - 64, end):
                    end -= 64
                while end > off and buf[end - 1] == 0xFF:
                    end -= 1
                torn = end - off
                self.head_off = self.S
            # A power cut tears only the record being written: more than one
            # record's worth of non-blank bytes was committed data (damage
            # or bits cleared on purpose), reported after the rebuild.
            long_tear = torn > _RH + MAX_PAYLOAD + _TRAILER
            self.oldest_seq = self._first_seq(self.tail)
            self.ts_max = hh[2]
            start = min(hh[3], hh[1] - 1) if hh[1] > 1 else 1
            if start < self.oldest_seq:
                start = self.oldest_seq
            self._start = start
            self._rebuild(start)
            if long_tear or not shaped:
                self._damage(self.last_seq + 1)
        else:
            self.oldest_seq = 1
        self.recovery.update({
            "torn_bytes": torn,
            "last_seq": self.last_seq,
            "head_sector": self.head,
            "tail_sector": self.tail,
            "z_count": self.z_n,
            "unacked": len(self._docs) - self._d0,
        })
        if self.z_n > 0 and self.z_last_seq == self.last_seq:
            # Power failed between the Z write and its log marker.
            self._marker_due = True
            try:
                self._write_marker(self.z_ts if self.z_ts > self.last_ts else self.last_ts)
                self.recovery["z_marker_rewritten"] = self.z_n
            except (JournalError, OSError):
                pass  # no room or a failed write: before the next append

    def _find_tail(self):
        # Sets the oldest retained sector. False when the sectors around the
        # head are not what appends and power cuts leave behind: a header
        # cleared or rewritten to hide the newest or the oldest sector
        # (docs/journal.md, "Open and recovery").
        N, head, g = self.N, self.head, self.head_gen
        self.tail = head
        if (g - 1) % N != head:
            return False
        if g < N:
            # first lap: sector 0 is the oldest; the sectors after the head
            # never held records (the next one may hold a torn header)
            h = self._hdr(0)
            if h is not None and h[0] == 1:
                self.tail = 0
                return self._blank_after_header(head + 1)
        else:
            s1, s2 = (head + 1) % N, (head + 2) % N
            h = self._hdr(s2)
            if h is not None and h[0] == g + 2 - N and self._sh[_SH_REL:_SH] == self._stamp():
                self.tail = s2  # s1 was released for reuse, its new header not written
                return True
            h = self._hdr(s1)
            if h is not None and h[0] == g + 1 - N:
                self.tail = s1
                if self._sh[_SH_REL:_SH] == self._stamp():
                    self._use_stamp(s1)  # the head's release was finished
                return True
        # damaged: the oldest sector of this lap whose records are still
        # there, with or without its header (then it is never erased)
        first = self._hdr(head)[1]
        for k in range(1, N):
            s = (head + k) % N
            h = self._hdr(s)
            if h is not None and h[0] == g + k - N:
                self.tail = s
                break
            f = self._first_seq(s) if g + k - N >= 1 else None
            if f is not None and f < first:
                self.tail = s
                break
        return False

    def _first_seq(self, s):
        # the first seq of sector s: from its header, or else from its first
        # record if that is intact; None
        h = self._hdr(s)
        if h is not None:
            return h[1]
        r = self._parse(self._read_sector(s), _SH)
        return None if r is None else r[0]

    def _blank_after_header(self, s):
        if s >= self.N:
            return True
        return _all_ff(self._read_sector(s), _SH, self.S)

    def _use_stamp(self, s):
        # The sector before s has its new header: its release stamp in s
        # must never again vouch for a sector missing before s.
        self._buf_sector = -1
        try:
            self.dev.writeblocks(s, _NO_STAMP, _SH_REL)
        except OSError:
            pass  # the next open uses it up

    def _rebuild(self, start):
        # Scan start..end of the log: last record, unacked documents, checkpoint.
        at = -1  # sector and offset of the last record's chain value
        sec = -1
        for x in self._scan(start):
            seq, rtype, flags, ts, ln, size = x[0]
            off, buf = x[1], x[3]
            if self._buf_sector != sec:
                sec = self._buf_sector
                if self._hdr(sec) is None:
                    self._damage(seq)  # counted by its records only
            if seq <= self.last_seq:
                # a copy of an older record after the end: never taken as
                # the end of the log; reported
                self._damage(self.last_seq + 1)
                continue
            if x[2] or seq != (self.last_seq + 1 if self.last_seq else start):
                # Kept, reported by recovery and the self-test (KZ-3.3).
                self._damage(self.last_seq + 1)
            self.last_seq = seq
            self.last_ts = ts
            if ts > self.ts_max:
                self.ts_max = ts
            at, at_off = self._buf_sector, off + _RH + ln
            self._queue(seq, rtype, flags, ts, buf, off)
            if rtype == CHECKPOINT:
                self._ckpt = seq
        if at >= 0:
            self.chain = bytes(self._read_sector(at)[at_off : at_off + _CHAIN])
        self._compact()

    def _queue(self, seq, rtype, flags, ts, buf, off):
        # the unacknowledged list as the records in log order leave it
        if flags & _F_NEED_ACK:
            self._docs.append(seq)
            self._docts.append(ts)
        elif rtype == ACK:
            (d,) = struct.unpack_from("<I", buf, off + _RH)
            if self._d0 < len(self._docs) and self._docs[self._d0] == d:
                self._d0 += 1

    def _compact(self):
        if self._d0:
            self._docs = self._docs[self._d0 :]
            self._docts = self._docts[self._d0 :]
            self._d0 = 0

    def _requeue(self, bad):
        # Acknowledgements and checkpoints from the first record that fails
        # its check on are not the device's word (forged without the key):
        # the documents they name go back to the queue, to be sent again
        # (the OFD answers a duplicate with its first answer), and the keep
        # line stays at the last checkpoint before them.
        self._docs, self._docts, self._d0 = [], [], 0
        self._ckpt = None
        last = 0
        for x in self._scan(self._start):
            r = x[0]
            if r[0] <= last:
                continue  # a copy, as the open skips it
            last = r[0]
            if last < bad or (r[1] != ACK and r[1] != CHECKPOINT):
                self._queue(last, r[1], r[2], r[3], x[3], x[1])
                if r[1] == CHECKPOINT:
                    self._ckpt = last
        self._compact()

    def _damage(self, seq):
        # First place where the log is not what appends leave behind.
        if "damaged" not in self.recovery:
            self.recovery["damaged"] = seq

    # ------------------------------------------------------------------
    # fiscal memory (Z area)

    def _zslot(self, i):
        b = bytearray(_ZSLOT)
        self.fm.readblocks(i // self.z_per_block, b, (i % self.z_per_block) * _ZSLOT)
        return b

    def _zblank(self, i):
        b = self._zslot(i)
        return _all_ff(b, 0, _ZSLOT)

    def _zvalid(self, b):
        if b[0:2] != _ZMAGIC:
            return False
        (crc,) = struct.unpack_from("<I", b, _Z_CRC_AT)
        return crc32(memoryview(b)[0:_Z_CRC_AT]) == crc

    def _open_fm(self):
        lo, hi = 0, self.z_total
        while lo < hi:  # first blank slot
            mid = (lo + hi) // 2
            if self._zblank(mid):
                hi = mid
            else:
                lo = mid + 1
        self.z_next = lo
        self.z_n = 0
        self.z_last_seq = 0
        self.z_ts = 0
        self.z_chain = self.genesis
        self.z_mac = b"\x00" * 16
        self.z_slot = -1
        i = lo - 1
        while i >= 0:
            b = self._zslot(i)
            if self._zvalid(b):
                m, z, ts, last, sl = struct.unpack_from(_ZH_FMT, b, 0)
                self.z_n = z
                self.z_ts = ts
                self.z_last_seq = last
                self.z_chain = bytes(b[_Z_CHAIN_AT:_Z_MAC_AT])
                self.z_mac = bytes(b[_Z_MAC_AT:_Z_CRC_AT])
                self.z_slot = i
                break
            i -= 1

    def z_count(self):
        return self.z_n

    def z_slots_left(self):
        return self.z_total - self.z_next

    def z_low(self):
        return self.z_slots_left() <= Z_LOW

    def read_z(self, n):
        # Z number n -> (ts, summary, chain)
        if n < 1 or n > self.z_n:
            raise JournalError("z", n)
        i = n - 1 if n - 1 < self.z_next else self.z_next - 1
        while i >= 0:  # torn slots shift later Z numbers; walk back
            b = self._zslot(i)
            if self._zvalid(b):
                m, z, ts, last, sl = struct.unpack_from(_ZH_FMT, b, 0)
                if z == n:
                    return (ts, bytes(b[_ZH : _ZH + sl]), bytes(b[_Z_CHAIN_AT:_Z_MAC_AT]))
                if z < n:
                    break
            i -= 1
        i = n
        while i < self.z_next:
            b = self._zslot(i)
            if self._zvalid(b):
                m, z, ts, last, sl = struct.unpack_from(_ZH_FMT, b, 0)
                if z == n:
                    return (ts, bytes(b[_ZH : _ZH + sl]), bytes(b[_Z_CHAIN_AT:_Z_MAC_AT]))
            i += 1
        raise JournalCorrupt("z", n)

    def close_shift(self, summary, ts):
        # KZ-ND-29: the Z summary goes to fiscal memory first; the shift's
        # counters may be reset by the caller only after this returns.
        if len(summary) > MAX_SUMMARY:
            raise JournalError("summary too long")
        self._check_ts(ts)
        if self.z_next >= self.z_total:
            raise JournalFull("fm")
        if self._marker_due:
            self._write_marker(ts)
        b = bytearray(_ZSLOT)
        z = self.z_n + 1
        struct.pack_into(_ZH_FMT, b, 0, _ZMAGIC, z, ts, self.last_seq, len(summary))
        b[_ZH : _ZH + len(summary)] = summary
        for k in range(_ZH + len(summary), _Z_CHAIN_AT):
            b[k] = 0
        b[_Z_CHAIN_AT:_Z_MAC_AT] = self.chain
        zmac = self._m.mac(b"Z", self.z_mac, memoryview(b)[0:_Z_MAC_AT])[:16]
        b[_Z_MAC_AT:_Z_CRC_AT] = zmac
        struct.pack_into("<I", b, _Z_CRC_AT, crc32(memoryview(b)[0:_Z_CRC_AT]))
        i = self.z_next
        self.z_next = i + 1  # a failed write leaves the slot used (never rewritten)
        blk, zoff = i // self.z_per_block, (i % self.z_per_block) * _ZSLOT
        mv = memoryview(b)[0 : _Z_CRC_AT + 4]
        try:
            self.fm.writeblocks(blk, mv, zoff)
        except OSError:
            if self._zblank(i):
                self.z_next = i  # nothing programmed: no hole before later slots
            raise
        back = bytearray(_Z_CRC_AT + 4)
        self.fm.readblocks(blk, back, zoff)
        if back != b[0 : _Z_CRC_AT + 4]:
            raise JournalError("fm write verify", z)  # the slot stays used
        self.z_n = z
        self.z_ts = ts
        self.z_last_seq = self.last_seq
        self.z_chain = self.chain
        self.z_mac = zmac
        self.z_slot = i
        self._marker_due = True
        try:
            self._write_marker(ts)
        except (JournalError, OSError):
            # no room or a failed write: the Z is closed all the same (the
            # caller must not close again); the marker goes before the next
            # record
            pass
        return z

    def _write_marker(self, ts):
        p = struct.pack("<I", self.z_n) + self.z_mac
        self._append(ZCLOSE, 0, p, ts, True)
        self._marker_due = False

    # ------------------------------------------------------------------
    # appends

    def _check_ts(self, ts):
        if not isinstance(ts, int) or ts < 0 or ts > _U32:
            raise JournalError("ts")

    def append(self, rtype, payload, ts, need_ack=False, reserve=False):
        # reserve=True: the record may use the reserve (a shift close, the
        # OFD session); otherwise it is refused (JournalFull) when it would
        # leave less than the reserve free
        if not isinstance(rtype, int) or rtype < 16 or rtype > 255:
            raise JournalError("rtype")
        return self._append(rtype, _F_NEED_ACK if need_ack else 0, payload, ts, reserve)

    def ack(self, doc_seq, payload, ts):
        if self._d0 >= len(self._docs) or self._docs[self._d0] != doc_seq:
            raise JournalError("ack order", doc_seq)
        if len(payload) > MAX_PAYLOAD - 4:
            raise JournalError("payload too long")
        seq = self._append(ACK, 0, struct.pack("<I", doc_seq) + payload, ts, True)
        self._d0 += 1
        if self._d0 >= 32 and self._d0 * 2 >= len(self._docs):
            self._docs = self._docs[self._d0 :]
            self._docts = self._docts[self._d0 :]
            self._d0 = 0
        return seq

    def checkpoint(self, payload, ts):
        seq = self._append(CHECKPOINT, 0, payload, ts, True)
        self._ckpt = seq
        return seq

    def last_checkpoint(self):
        return self._ckpt

    def unacked(self, limit=None):
        # a copy: the oldest `limit` (all when None)
        end = len(self._docs) if limit is None else min(len(self._docs), self._d0 + limit)
        return self._docs[self._d0 : end]

    def unacked_count(self):
        return len(self._docs) - self._d0

    def first_unacked(self):
        # seq of the oldest unacknowledged document, or None (no copy)
        if self._d0 < len(self._docs):
            return self._docs[self._d0]
        return None

    def is_unacked(self, seq):
        # binary search: the unacknowledged documents are kept in seq order
        d = self._docs
        lo = self._d0
        hi = len(d)
        while lo < hi:
            mid = (lo + hi) >> 1
            if d[mid] < seq:
                lo = mid + 1
            else:
                hi = mid
        return lo < len(d) and d[lo] == seq

    def oldest_unacked_ts(self):
        if self._d0 < len(self._docs):
            return self._docts[self._d0]
        return None

    def _low_water(self):
        # The lowest seq that must be kept: oldest unacknowledged document,
        # latest checkpoint, first record of the open shift.
        w = self.z_last_seq + 1
        if self._d0 < len(self._docs) and self._docs[self._d0] < w:
            w = self._docs[self._d0]
        if self._ckpt is not None and self._ckpt < w:
            w = self._ckpt
        return w

    def _append(self, rtype, flags, payload, ts, internal):
        self._check_ts(ts)
        if self.last_seq >= LAST_SEQ:
            # the end of the accumulator's life, never a wrapped sequence
            raise JournalError("seq", self.last_seq)
        ln = len(payload)
        if ln > MAX_PAYLOAD:
            raise JournalError("payload too long")
        size = _RH + ln + _TRAILER
        if not internal:
            lens = (ZMARK_LEN, ln) if self._marker_due else (ln,)
            if not self._fits(lens, 1 if flags & _F_NEED_ACK else 0, ts):
                raise JournalFull("log")
        if self._marker_due and rtype != ZCLOSE:
            self._write_marker(ts)
        if self.head < 0 or self.head_off + size > self.S:
            self._new_sector(ts)
        seq = self.last_seq + 1
        rec = bytearray(size)
        struct.pack_into(_RH_FMT, rec, 0, _RMAGIC, rtype, flags, 0, seq, ts, ln)
        rec[_RH : _RH + ln] = payload
        mv = memoryview(rec)
        chain = self._m.mac(self.chain, mv[0 : _RH + ln])
        rec[_RH + ln : _RH + ln + _CHAIN] = chain
        struct.pack_into("<I", rec, size - 4, crc32(mv[0 : size - 4]))
        off = self.head_off
        self._buf_sector = -1
        try:
            self.dev.writeblocks(self.head, rec, off)
            # A chip reports nothing when bits it was to program stay set
            # (bytes not blank, a worn cell): read the record back before
            # it counts as written.
            back = bytearray(size)
            self.dev.readblocks(self.head, back, off)
        except Exception:
            self.head_off = self.S  # never program over a failed write
            raise
        if back != rec:
            self.head_off = self.S
            raise JournalError("write verify", seq)
        self.head_off = off + size
        self.last_seq = seq
        self.last_ts = ts
        if ts > self.ts_max:
            self.ts_max = ts
        self.chain = chain
        if flags & _F_NEED_ACK:
            self._docs.append(seq)
            self._docts.append(ts)
        return seq

    def _retained(self, s):
        if self.head < 0:
            return False
        return (s - self.tail) % self.N <= (self.head - self.tail) % self.N

    def _reusable(self, s, now):
        if s == self.head:
            return False
        h = self._hdr((s + 1) % self.N)
        if h is None:
            return False
        # the next sector must start below the keep line: the record just
        # below it stays, its chain value is where the self-test begins
        if h[1] >= self._low_water():
            return False
        return h[2] + self.retention_s <= now

    def _new_sector(self, now):
        N = self.N
        nxt = 0 if self.head < 0 else (self.head + 1) % N
        # (ordinary records were checked against the reserve by _fits)
        if self._retained(nxt) and (nxt != self.tail or not self._reusable(nxt, now)):
            raise JournalFull("log")
        h = self._hdr(nxt)
        if h is not None and h[0] > self.head_gen:
            raise JournalCorrupt("sector order", nxt)
        t = (nxt + 1) % N
        if self._retained(nxt) and h is None:
            raise JournalCorrupt("hidden", nxt)  # the open counted it by its records
        if self._retained(nxt):
            # Release it first: a stamp in the header of the sector after it
            # (the oldest from now on) says it holds nothing any more,
            # whatever an erase cut short leaves in it. Only the key makes
            # the stamp, so nobody can drop the oldest sector by clearing
            # its header.
            h = self._hdr(t)
            stamp = self._stamp()
            self.dev.writeblocks(t, stamp, _SH_REL)
            if self._hdr(t) is None or self._sh[_SH_REL:_SH] != stamp:
                raise JournalError("write verify", self.last_seq + 1)
            self.tail = t
            self.oldest_seq = h[1]
        elif not self._blank_after_header(nxt) and not (t == self.tail and self._released(t)):
            # records in a sector the open did not count (its header was
            # cleared): evidence, never erased
            raise JournalCorrupt("hidden", nxt)
        self._buf_sector = -1
        self.dev.ioctl(6, nxt)
        gen = self.head_gen + 1
        sh = bytearray(_SH_REL)
        struct.pack_into(_SH_FMT, sh, 0, _SMAGIC, gen, self.last_seq + 1, self.ts_max, self._low_water())
        sh[_SH_MAC:_SH_REL] = self._m.mac(b"S", memoryview(sh)[0:_SH_MAC])[:16]
        if self.head < 0:
            self.oldest_seq = self.last_seq + 1
        self.dev.writeblocks(nxt, sh, 0)
        if self._hdr(nxt) is None or self._sh[0:_SH_REL] != sh:
            # not programmed as built: records there would be invisible
            # after a reboot; the next append prepares the sector again
            raise JournalError("write verify", self.last_seq + 1)
        self.head = nxt
        self.head_gen = gen
        self.head_off = _SH
        if t == self.tail and self._released(t):
            self._use_stamp(t)

    # ------------------------------------------------------------------
    # space (the reserve)

    def can_append(self, lengths, ts, docs=0):
        # Would ordinary records with these payload lengths, appended in
        # this order at time ts, be accepted (the reserve still free after
        # them)? docs: how many of them need an acknowledgement (their ACKs
        # join the reserve). Reads at most a few sector headers.
        lens = tuple(lengths)
        if self._marker_due:
            lens = (ZMARK_LEN,) + lens
        return self._fits(lens, docs, ts)

    def free_bytes(self, ts):
        # Payload bytes ordinary records could still take at ts, about
        # (sector ends lost to records that do not fit are not counted).
        cap = self.S - _SH
        used = 0
        for ln in self.reserve:
            used += ln + RECORD_OVERHEAD
        unit = 0
        for ln in self.doc_reserve:
            unit += ln + RECORD_OVERHEAD
        used += unit * (len(self._docs) - self._d0)
        room = (self.S - self.head_off) if self.head >= 0 else 0
        room += (self.N - self._count()) * cap
        t = self.tail
        while self.head >= 0 and t != self.head and self._reusable(t, ts):
            room += cap
            t = (t + 1) % self.N
        room -= used + RECORD_OVERHEAD + self.cut_sectors * cap
        return room if room > 0 else 0

    def _fits(self, lens, docs, ts):
        # Next-fit placement of `lens` (ordinary records), then the reserve
        # records, then one atomic unit (doc_reserve) per unacknowledged
        # document, then cut_sectors whole sectors, into the head sector's
        # rest, the free sectors and the tail sectors that could be reused
        # at ts.
        cap = self.S - _SH
        sizes = []
        for ln in lens:
            sizes.append(ln + _RH + _TRAILER)
        for ln in self.reserve:
            sizes.append(ln + _RH + _TRAILER)
        unit = 0
        for ln in self.doc_reserve:
            unit += ln + _RH + _TRAILER
        units = len(self._docs) - self._d0 + docs
        big = unit
        total = unit * units
        for z in sizes:
            total += z
            if z > big:
                big = z
        rem = (self.S - self.head_off) if self.head >= 0 else 0
        free = self.N - self._count()
        spare = self.cut_sectors
        if big < cap and free > spare and (rem - big) + (free - spare) * (cap - big) >= total:
            return True  # plenty of room: no simulation, no flash reads
        i = 0
        n = len(sizes)
        t = self.tail
        while True:
            while i < n and sizes[i] <= rem:
                rem -= sizes[i]
                i += 1
            if i == n and units > 0 and unit > 0:
                k = rem // unit
                if k >= units:
                    units = 0
                else:
                    units -= k
            if i == n and (units == 0 or unit == 0):
                if spare == 0:
                    return True
                spare -= 1  # then whole sectors for records torn by power cuts
            # the next sector: a free one, else the tail if it may be reused
            if free > 0:
                free -= 1
            else:
                if self.head < 0 or t == self.head or not self._reusable(t, ts):
                    return False
                t = (t + 1) % self.N
            rem = cap
            if (i < n and sizes[i] > cap) or (i == n and units > 0 and unit > cap):
                return False

    # ------------------------------------------------------------------
    # reading

    def read(self, seq):
        if seq < self.oldest_seq or seq > self.last_seq or seq < 1:
            raise JournalError("unknown seq", seq)
        for r in self._walk(seq, seq):
            seq_, rtype, flags, ts, buf, off, ln = r
            return (rtype, ts, bytes(buf[off + _RH : off + _RH + ln]))
        raise JournalError("unknown seq", seq)

    def records(self, since_seq, acks=False):
        # acks=True: the ACK records too (a document's fiscal sign)
        if since_seq < 1:
            since_seq = 1
        if since_seq < self.oldest_seq:
            raise JournalError("reused", since_seq)
        return self._records(since_seq, self.last_seq, acks)

    def readout(self, since_seq):
        # Every record still intact (its CRC checks) from since_seq on, in
        # log order, journal types included: (seq, rtype, ts, payload).
        # Damaged bytes are passed over, never raised on: this is how the
        # records of a log that fails its self-test are read out (KZ-9).
        for r, off, damaged, buf in self._scan(max(since_seq, self.oldest_seq)):
            ln = r[4]
            yield (r[0], r[1], r[3], bytes(buf[off + _RH : off + _RH + ln]))

    def _records(self, since, upto, acks=False):
        for r in self._walk(since, upto):
            seq, rtype, flags, ts, buf, off, ln = r
            if rtype >= 16 or (acks and rtype == ACK):
                yield (seq, rtype, ts, bytes(buf[off + _RH : off + _RH + ln]))

    # ------------------------------------------------------------------
    # self-test (KZ-2.3, KZ-9, KZ-13)

    def self_test(self):
        res = self._self_test()
        if not res.ok and res.seq is not None and self.head >= 0:
            self._requeue(res.seq)
        return res

    def _self_test(self):
        res = SelfTestResult(True)
        # Records verified one by one start at the keep line (oldest
        # unacknowledged document, latest checkpoint: what will still be
        # sent or restored) or at the last closed shift, the earlier.
        low = self._low_water()
        # 1. every Z summary, through the chain of Z MACs (KZ-2.3(2))
        prev_mac = b"\x00" * 16
        prev_z = 0
        prev_last = 0
        prev_chain = self.genesis
        before_last = (0, self.genesis)  # (last seq, chain) of the Z before the last
        low_shift = None  # number of the shift holding `low`
        skipped = False
        for i in range(self.z_next):
            b = self._zslot(i)
            if not self._zvalid(b):
                if _all_ff(b, 0, _ZSLOT):
                    return self._fail(res, prev_z + 1, None, "z area hole")
                skipped = True
                continue  # torn by a power cut; the next Z links past it
            m, z, ts, last, sl = struct.unpack_from(_ZH_FMT, b, 0)
            if z != prev_z + 1 and skipped:
                return self._fail(res, prev_z + 1, None, "z damaged")
            if z != prev_z + 1 or last < prev_last or sl > MAX_SUMMARY:
                return self._fail(res, z, None, "z order")
            skipped = False
            if self._m.mac(b"Z", prev_mac, memoryview(b)[0:_Z_MAC_AT])[:16] != b[_Z_MAC_AT:_Z_CRC_AT]:
                return self._fail(res, z, None, "z mac")
            if low_shift is None and last >= low - 1:
                low_shift = z
            before_last = (prev_last, prev_chain)
            prev_mac = bytes(b[_Z_MAC_AT:_Z_CRC_AT])
            prev_z = z
            prev_last = last
            prev_chain = bytes(b[_Z_CHAIN_AT:_Z_MAC_AT])
            res.z_checked += 1
        if prev_z != self.z_n or prev_last != self.z_last_seq:
            return self._fail(res, prev_z, None, "z count")
        if self.z_last_seq > self.last_seq:
            return self._fail(res, self.z_n, self.last_seq + 1, "records missing")
        # 2. the last closed shift record by record vs its Z chain (KZ-2.3(1))
        first, anchor = self.z_last_seq + 1, self.z_chain
        if self.z_n >= 1 and before_last[0] + 1 >= self.oldest_seq:
            first, anchor = before_last[0] + 1, before_last[1]
        # 0. older records still kept: from the keep line up to `first`,
        # tied to the chain value at `first` (a Z value from fiscal memory)
        if low < first:
            if low == 1:
                c = self.genesis
            else:
                # the record before (the ring keeps it; an older image may
                # not have: then the first one is taken on trust)
                k = low - 1 if low - 1 >= self.oldest_seq else low
                try:
                    c = self._stored_chain(k)
                except JournalCorrupt as e:
                    return self._fail(res, low_shift, e.args[1], "record lost")
                low = k + 1
            r = self._verify(res, low_shift, -1, low, first - 1, c, anchor)
            if r is not None:
                return r
        if first <= self.z_last_seq:
            r = self._verify(res, self.z_n, self.z_n - 1, first, self.z_last_seq, anchor, self.z_chain)
            if r is not None:
                return r
        # 3. the open shift record by record up to the current chain value
        r = self._verify(res, None, self.z_n, self.z_last_seq + 1, self.last_seq, self.z_chain, self.chain)
        if r is not None:
            return r
        # 4. what the open found and no walk above reads: records damaged
        # past the end, a copy of an older record after the last one
        d = self.recovery.get("damaged")
        if d is not None:
            return self._fail(res, None, d, "damaged")
        return res

    def _stored_chain(self, seq):
        for r in self._walk(seq, seq):
            buf, off, ln = r[4], r[5], r[6]
            return bytes(buf[off + _RH + ln : off + _RH + ln + _CHAIN])

    def _verify(self, res, shift, zmark, first, last, chain, end):
        # Recompute the chain over first..last from `chain`: each record's
        # stored value must match, and the result must equal `end`.
        # zmark >= 0: one shift; its first record must be the ZCLOSE marker
        # naming Z zmark (none when 0) and no other marker may appear.
        # zmark < 0: older shifts; each marker names the shift it closed.
        seq = first
        try:
            for r in self._walk(first, last):
                seq, rtype, flags, ts, buf, off, ln = r
                mv = memoryview(buf)
                e = off + _RH + ln
                chain = self._m.mac(chain, mv[off:e])
                if chain != buf[e : e + _CHAIN]:
                    return self._fail(res, shift, seq, "record mac")
                if rtype == ZCLOSE:
                    (zn,) = struct.unpack_from("<I", buf, off + _RH)
                    if zmark < 0:
                        if shift is not None and zn != shift:
                            return self._fail(res, shift, seq, "z marker")
                        shift = zn + 1
                    elif seq != first or zn != zmark:
                        return self._fail(res, shift, seq, "z marker")
                elif seq == first and zmark > 0:
                    return self._fail(res, shift, seq, "z marker missing")
                res.records += 1
        except JournalCorrupt as e:
            return self._fail(res, shift, e.args[1] if len(e.args) > 1 else seq, "record lost")
        if chain != end:
            return self._fail(res, shift, last, "chain end" if shift is None else "z chain")
        return None

    def _fail(self, res, shift, seq, reason):
        res.ok = False
        res.shift = shift
        res.seq = seq
        res.reason = reason
        return res
