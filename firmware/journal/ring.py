# The ring of records on the log device: sectors of hash-chained records,
# written in order and reused oldest first (docs/journal.md). Opening finds
# the end again, skips a torn tail and rebuilds the queue of unacknowledged
# documents.

import struct
from compat import CRC32_RESIDUE, const, crc32

ACK = 1
CHECKPOINT = 2
ZCLOSE = 3
MAX_PAYLOAD = 2048
ZMARK_LEN = 20  # payload of a ZCLOSE marker
RECORD_OVERHEAD = 50  # header, chain value and CRC around every payload
# the last sequence: never reused, it is the autonomous sign (KZ-29.3) the
# protocol's uint32 fields carry, and they stop at 2^31 - 1 (PROTOCOL.md 1)
LAST_SEQ = const(0x7FFFFFFF)

# Sector header: magic, generation, first seq, running max ts, keep seq,
# keyed MAC of those (16), release stamp (16, blank until the sector
# before this one is released for reuse).
_SH_FMT = "<4sIIII"
SECTOR_HEADER = const(52)
_SH_MAC = const(20)
_SH_REL = const(36)
_SMAGIC = b"FJS2"
_NO_STAMP = b"\x00" * 16  # a release stamp used up: its sector was rewritten
# Record header: magic, type, flags, reserved, seq, ts, payload length.
_RH_FMT = "<BBBBIIH"
RECORD_HEADER = const(14)
_RMAGIC = const(0xA5)
CHAIN_LEN = const(32)
_TRAILER = const(36)  # chain value + crc32
_F_NEED_ACK = const(1)
_U32 = const(0xFFFFFFFF)


class JournalError(Exception):
    pass


class JournalFull(JournalError):
    # args[0]: "log" (space held by data that must be kept) or "fm" (no Z slot)
    pass


class JournalCorrupt(JournalError):
    pass


def all_ff(buf, start, end):
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


class Ring:
    def _init_ring(self, log_dev, retention_s):
        self.dev = log_dev
        self.retention_s = retention_s
        self.S = log_dev.ioctl(5, 0)
        self.N = log_dev.ioctl(4, 0)
        if self.N < 3 or self.S < 512:
            raise JournalError("log device too small")
        self._buf = bytearray(self.S)
        self._buf_sector = -1
        self._sh = bytearray(SECTOR_HEADER)

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
        return self._hdr(s) is not None and self._sh[_SH_REL:SECTOR_HEADER] == self._stamp()

    def _parse(self, buf, off):
        # One record at off of a sector buffer.
        # -> (seq, rtype, flags, ts, length, size) or None (end, blank or torn)
        S = self.S
        if off + RECORD_HEADER + _TRAILER > S or buf[off] != _RMAGIC:
            return None
        m, rtype, flags, rsv, seq, ts, ln = struct.unpack_from(_RH_FMT, buf, off)
        end = off + RECORD_HEADER + ln + _TRAILER
        if ln > MAX_PAYLOAD or end > S:
            return None
        if crc32(memoryview(buf)[off:end]) != CRC32_RESIDUE:
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
        if all_ff(buf, off, S):
            return None
        p = off
        while True:
            p = buf.find(b"\xa5", p + 1)
            if p < 0 or p > S - RECORD_HEADER - _TRAILER:
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
            off = SECTOR_HEADER
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
                off = SECTOR_HEADER
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
            if all_ff(buf, off, self.S):
                self.head_off = off
            else:
                # Torn tail: ignore it, never reuse its bytes.
                end = self.S
                while end - 64 > off and all_ff(buf, end - 64, end):
                    end -= 64
                while end > off and buf[end - 1] == 0xFF:
                    end -= 1
                torn = end - off
                self.head_off = self.S
            # A power cut tears only the record being written: more than one
            # record's worth of non-blank bytes was committed data (damage
            # or bits cleared on purpose), reported after the rebuild.
            long_tear = torn > RECORD_HEADER + MAX_PAYLOAD + _TRAILER
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
            if h is not None and h[0] == g + 2 - N and self._sh[_SH_REL:SECTOR_HEADER] == self._stamp():
                self.tail = s2  # s1 was released for reuse, its new header not written
                return True
            h = self._hdr(s1)
            if h is not None and h[0] == g + 1 - N:
                self.tail = s1
                if self._sh[_SH_REL:SECTOR_HEADER] == self._stamp():
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
        r = self._parse(self._read_sector(s), SECTOR_HEADER)
        return None if r is None else r[0]

    def _blank_after_header(self, s):
        if s >= self.N:
            return True
        return all_ff(self._read_sector(s), SECTOR_HEADER, self.S)

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
            at, at_off = self._buf_sector, off + RECORD_HEADER + ln
            self._queue(seq, rtype, flags, ts, buf, off)
            if rtype == CHECKPOINT:
                self._ckpt = seq
        if at >= 0:
            self.chain = bytes(self._read_sector(at)[at_off : at_off + CHAIN_LEN])
        self._compact()

    def _queue(self, seq, rtype, flags, ts, buf, off):
        # the unacknowledged list as the records in log order leave it
        if flags & _F_NEED_ACK:
            self._docs.append(seq)
            self._docts.append(ts)
        elif rtype == ACK:
            (d,) = struct.unpack_from("<I", buf, off + RECORD_HEADER)
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

    def _append(self, rtype, flags, payload, ts, internal):
        self._check_ts(ts)
        if self.last_seq >= LAST_SEQ:
            # the end of the accumulator's life, never a wrapped sequence
            raise JournalError("seq", self.last_seq)
        ln = len(payload)
        if ln > MAX_PAYLOAD:
            raise JournalError("payload too long")
        size = RECORD_HEADER + ln + _TRAILER
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
        rec[RECORD_HEADER : RECORD_HEADER + ln] = payload
        mv = memoryview(rec)
        chain = self._m.mac(self.chain, mv[0 : RECORD_HEADER + ln])
        rec[RECORD_HEADER + ln : RECORD_HEADER + ln + CHAIN_LEN] = chain
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
            if self._hdr(t) is None or self._sh[_SH_REL:SECTOR_HEADER] != stamp:
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
        self.head_off = SECTOR_HEADER
        if t == self.tail and self._released(t):
            self._use_stamp(t)


    # ------------------------------------------------------------------
    # reading

    def read(self, seq):
        if seq < self.oldest_seq or seq > self.last_seq or seq < 1:
            raise JournalError("unknown seq", seq)
        for r in self._walk(seq, seq):
            seq_, rtype, flags, ts, buf, off, ln = r
            return (rtype, ts, bytes(buf[off + RECORD_HEADER : off + RECORD_HEADER + ln]))
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
            yield (r[0], r[1], r[3], bytes(buf[off + RECORD_HEADER : off + RECORD_HEADER + ln]))

    def _records(self, since, upto, acks=False):
        for r in self._walk(since, upto):
            seq, rtype, flags, ts, buf, off, ln = r
            if rtype >= 16 or (acks and rtype == ACK):
                yield (seq, rtype, ts, bytes(buf[off + RECORD_HEADER : off + RECORD_HEADER + ln]))

