# The self-test (KZ-2.3, KZ-9, KZ-13): every Z summary through the chain of
# Z MACs, then the records still kept re-chained under the key and compared
# with the chain values the Z area holds.

import struct
from journal.ring import ZCLOSE, RECORD_HEADER, CHAIN_LEN, JournalCorrupt, all_ff
from journal.zarea import MAX_SUMMARY, Z_HEAD_FMT, Z_SLOT, Z_CHAIN_AT, Z_MAC_AT, Z_CRC_AT


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


class SelfTest:
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
                if all_ff(b, 0, Z_SLOT):
                    return self._fail(res, prev_z + 1, None, "z area hole")
                skipped = True
                continue  # torn by a power cut; the next Z links past it
            m, z, ts, last, sl = struct.unpack_from(Z_HEAD_FMT, b, 0)
            if z != prev_z + 1 and skipped:
                return self._fail(res, prev_z + 1, None, "z damaged")
            if z != prev_z + 1 or last < prev_last or sl > MAX_SUMMARY:
                return self._fail(res, z, None, "z order")
            skipped = False
            if self._m.mac(b"Z", prev_mac, memoryview(b)[0:Z_MAC_AT])[:16] != b[Z_MAC_AT:Z_CRC_AT]:
                return self._fail(res, z, None, "z mac")
            if low_shift is None and last >= low - 1:
                low_shift = z
            before_last = (prev_last, prev_chain)
            prev_mac = bytes(b[Z_MAC_AT:Z_CRC_AT])
            prev_z = z
            prev_last = last
            prev_chain = bytes(b[Z_CHAIN_AT:Z_MAC_AT])
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

    def verify_shift(self, n):
        # KZ-2.3(1) for any closed shift (a journal reader checks them all;
        # the power-on test the last one): its records re-chained under the
        # key from the chain value of Z n-1 must end on that of Z n. A shift
        # whose start the ring reused is chained from its oldest kept
        # record's own stored value. -> SelfTestResult, or None when the
        # ring keeps none of its records.
        res = SelfTestResult(True)
        last = self._zlast(n)
        if last < self.oldest_seq:
            return None
        first, zmark = self._zlast(n - 1) + 1, n - 1
        start = self.read_z(n - 1)[2] if n > 1 else self.genesis
        if first < self.oldest_seq:
            try:
                start = self._stored_chain(self.oldest_seq)
            except JournalCorrupt as e:
                return self._fail(res, n, e.args[1] if len(e.args) > 1 else self.oldest_seq, "record lost")
            first, zmark = self.oldest_seq + 1, -1
        r = self._verify(res, n, zmark, first, last, start, self.read_z(n)[2])
        return res if r is None else r

    def _stored_chain(self, seq):
        for r in self._walk(seq, seq):
            buf, off, ln = r[4], r[5], r[6]
            return bytes(buf[off + RECORD_HEADER + ln : off + RECORD_HEADER + ln + CHAIN_LEN])

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
                e = off + RECORD_HEADER + ln
                chain = self._m.mac(chain, mv[off:e])
                if chain != buf[e : e + CHAIN_LEN]:
                    return self._fail(res, shift, seq, "record mac")
                if rtype == ZCLOSE:
                    (zn,) = struct.unpack_from("<I", buf, off + RECORD_HEADER)
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

