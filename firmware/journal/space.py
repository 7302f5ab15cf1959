# Space accounting: what ordinary appends must leave free so that the
# shift close, the acknowledgement of every queued document and the records
# torn by power cuts always fit (docs/journal.md, "Space"), and which old
# sectors may be reused.

from journal.ring import MAX_PAYLOAD, RECORD_OVERHEAD, SECTOR_HEADER, ZMARK_LEN

ACK_ROOM = 40  # payload reserved for the ACK of each unacknowledged document
# Power cuts a full log outlives (a cut, and another during the recovery that
# follows): a cut tears the record being written and the rest of its sector
# is never used, so ordinary appends may leave that many whole sectors free
# besides the reserve (acc.cut_sectors; docs/journal.md, "Reserve").
CUT_SECTORS = 2


class Space:
    def _init_space(self, reserve, doc_reserve):
        # Records of these payload lengths (by default a Z marker and one
        # checkpoint of the largest size) plus, for every unacknowledged
        # document, records of the lengths in doc_reserve (by default its
        # ACK). Appends with reserve=True (and acks, checkpoints, Z markers)
        # may use it. The caller may change both.
        self.reserve = (ZMARK_LEN, MAX_PAYLOAD) if reserve is None else tuple(reserve)
        self.doc_reserve = (ACK_ROOM,) if doc_reserve is None else tuple(doc_reserve)
        # and whole sectors for records torn by power cuts (CUT_SECTORS)
        self.cut_sectors = 0

    def _low_water(self):
        # The lowest seq that must be kept: oldest unacknowledged document,
        # latest checkpoint, first record of the open shift.
        w = self.z_last_seq + 1
        if self._d0 < len(self._docs) and self._docs[self._d0] < w:
            w = self._docs[self._d0]
        if self._ckpt is not None and self._ckpt < w:
            w = self._ckpt
        return w

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
        cap = self.S - SECTOR_HEADER
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
        cap = self.S - SECTOR_HEADER
        sizes = []
        for ln in lens:
            sizes.append(ln + RECORD_OVERHEAD)
        for ln in self.reserve:
            sizes.append(ln + RECORD_OVERHEAD)
        unit = 0
        for ln in self.doc_reserve:
            unit += ln + RECORD_OVERHEAD
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

