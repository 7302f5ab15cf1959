# The Z area: fiscal memory of shift summaries on its own device, one slot
# per shift close, written once and never erased (KZ-ND-29, KZ-ND-34). Each
# slot carries the record chain's value at the close and a keyed MAC over the
# previous slot's MAC (docs/journal.md, "Fiscal memory").

import struct
from compat import CRC32_RESIDUE, const, crc32
from journal.ring import ZCLOSE, JournalError, JournalFull, JournalCorrupt, all_ff

MAX_SUMMARY = 256
# Slot: magic, z number, ts, last seq, summary length; summary (256), chain
# (32), zmac (16), crc32 (4), 12 bytes left unwritten.
Z_HEAD_FMT = "<2sIIIH"
_ZH = const(16)
Z_SLOT = const(336)
Z_CHAIN_AT = const(272)
Z_MAC_AT = const(304)
Z_CRC_AT = const(320)
_ZMAGIC = b"FZ"


class ZArea:
    def _init_z(self, fm_dev):
        self.fm = fm_dev
        self.z_per_block = fm_dev.ioctl(5, 0) // Z_SLOT
        self.z_total = fm_dev.ioctl(4, 0) * self.z_per_block

    def _zslot(self, i):
        b = bytearray(Z_SLOT)
        self.fm.readblocks(i // self.z_per_block, b, (i % self.z_per_block) * Z_SLOT)
        return b

    def _zblank(self, i):
        b = self._zslot(i)
        return all_ff(b, 0, Z_SLOT)

    def _zvalid(self, b):
        if b[0:2] != _ZMAGIC:
            return False
        return crc32(memoryview(b)[0 : Z_CRC_AT + 4]) == CRC32_RESIDUE

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
                m, z, ts, last, sl = struct.unpack_from(Z_HEAD_FMT, b, 0)
                self.z_n = z
                self.z_ts = ts
                self.z_last_seq = last
                self.z_chain = bytes(b[Z_CHAIN_AT:Z_MAC_AT])
                self.z_mac = bytes(b[Z_MAC_AT:Z_CRC_AT])
                self.z_slot = i
                break
            i -= 1

    def z_count(self):
        return self.z_n

    def z_slots_left(self):
        return self.z_total - self.z_next

    def read_z(self, n):
        # Z number n -> (ts, summary, chain)
        b = self._zfind(n)
        _m, _z, ts, _last, sl = struct.unpack_from(Z_HEAD_FMT, b, 0)
        return (ts, bytes(b[_ZH : _ZH + sl]), bytes(b[Z_CHAIN_AT:Z_MAC_AT]))

    def _zlast(self, n):
        # the last record of the shift Z number n closed; 0 before Z 1
        return struct.unpack_from(Z_HEAD_FMT, self._zfind(n), 0)[3] if n else 0

    def _zfind(self, n):
        # the slot of Z number n
        if n < 1 or n > self.z_n:
            raise JournalError("z", n)
        i = n - 1 if n - 1 < self.z_next else self.z_next - 1
        while i >= 0:  # torn slots shift later Z numbers; walk back
            b = self._zslot(i)
            if self._zvalid(b):
                z = struct.unpack_from(Z_HEAD_FMT, b, 0)[1]
                if z == n:
                    return b
                if z < n:
                    break
            i -= 1
        i = n
        while i < self.z_next:
            b = self._zslot(i)
            if self._zvalid(b) and struct.unpack_from(Z_HEAD_FMT, b, 0)[1] == n:
                return b
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
        b = bytearray(Z_SLOT)
        z = self.z_n + 1
        struct.pack_into(Z_HEAD_FMT, b, 0, _ZMAGIC, z, ts, self.last_seq, len(summary))
        b[_ZH : _ZH + len(summary)] = summary
        for k in range(_ZH + len(summary), Z_CHAIN_AT):
            b[k] = 0
        b[Z_CHAIN_AT:Z_MAC_AT] = self.chain
        zmac = self._m.mac(b"Z", self.z_mac, memoryview(b)[0:Z_MAC_AT])[:16]
        b[Z_MAC_AT:Z_CRC_AT] = zmac
        struct.pack_into("<I", b, Z_CRC_AT, crc32(memoryview(b)[0:Z_CRC_AT]))
        i = self.z_next
        self.z_next = i + 1  # a failed write leaves the slot used (never rewritten)
        blk, zoff = i // self.z_per_block, (i % self.z_per_block) * Z_SLOT
        mv = memoryview(b)[0 : Z_CRC_AT + 4]
        try:
            self.fm.writeblocks(blk, mv, zoff)
        except OSError:
            if self._zblank(i):
                self.z_next = i  # nothing programmed: no hole before later slots
            raise
        back = bytearray(Z_CRC_AT + 4)
        self.fm.readblocks(blk, back, zoff)
        if back != b[0 : Z_CRC_AT + 4]:
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

