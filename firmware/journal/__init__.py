# Fiscal data accumulator (KZ-28): an append-only, hash-chained log on a raw
# block device plus a never-erased fiscal-memory area for shift-close (Z)
# summaries. Both devices speak the MicroPython block-device protocol
# (readblocks/writeblocks with an offset, ioctl 4/5/6), so on the ESP32 they
# are two raw esp32.Partition objects ("fjournal" and "fmemory") and on the
# PC two boards.sim.nor_flash.NorFlash emulators. Byte layout: docs/journal.md.
#
# Public API (names are stable; the register core codes against them):
#
#   from journal import Accumulator, JournalError, JournalFull, JournalCorrupt, SelfTestResult
#   acc = Accumulator(log_dev, fm_dev, key, retention_s=30*86400)
#       opens and recovers (finds the end, skips a torn tail, rebuilds the
#       unacknowledged-document index); key is the per-device secret (bytes)
#   acc.recovery        dict: torn_bytes, last_seq, z_count, ...
#   acc.append(rtype, payload, ts, need_ack=False, reserve=False) -> seq
#       rtype 16..255 (0..15 belong to the journal), payload bytes up to
#       MAX_PAYLOAD, ts int unix seconds; JournalFull when the space is held
#       by data that may not be reused (nothing is overwritten then), or
#       when the record would leave less than the reserve free (unless
#       reserve=True: the shift close, the OFD session)
#   acc.reserve, acc.doc_reserve   payload lengths kept free: records that
#       must always fit, and records per unacknowledged document (its ACK)
#   acc.cut_sectors   whole sectors also kept free for records torn by power
#       cuts (0; CUT_SECTORS: a cut and a second one during its recovery)
#   acc.can_append(lengths, ts, docs=0) -> bool   ordinary records fit now?
#   acc.free_bytes(ts) -> int   about how much ordinary payload still fits
#   acc.ack(doc_seq, payload, ts) -> seq
#       ACK record for the oldest unacknowledged document (acks come in
#       order); any other doc_seq raises JournalError
#   acc.unacked(limit=None) -> list of seq in order (a copy: the oldest
#       `limit`); acc.oldest_unacked_ts() -> int or None; without copying:
#       acc.unacked_count(), acc.first_unacked() -> seq or None,
#       acc.is_unacked(seq) -> bool
#   acc.read(seq) -> (rtype, ts, payload); JournalError if unknown or reused.
#       For ACK records the payload is the 4-byte little-endian document
#       seq followed by the caller's payload.
#   acc.records(since_seq, acks=False) -> iterator of (seq, rtype, ts,
#       payload), skipping the journal's own record types (but the ACK
#       records with acks=True)
#   acc.readout(since_seq) -> the same for every record still intact, the
#       journal's own types included; damage is passed over, never raised
#       (the service engineer's readout of a log that fails its self-test)
#   acc.checkpoint(payload, ts) -> seq; acc.last_checkpoint() -> seq or None
#       the latest checkpoint and every record after it are never reused
#   acc.close_shift(summary_bytes, ts) -> z_number   (summary <= 256 bytes)
#   acc.z_count(); acc.z_slots_left() (the register warns when few are left)
#   acc.read_z(n) -> (ts, summary, chain)
#   acc.self_test() -> SelfTestResult(.ok, .shift, .seq, .reason)
#   acc.last_seq; acc.last_ts
#
# Record types owned by the journal: ACK = 1, CHECKPOINT = 2, ZCLOSE = 3.

from journal.ring import (  # noqa: F401
    JournalError,
    JournalFull,
    JournalCorrupt,
    ACK,
    CHECKPOINT,
    ZCLOSE,
    MAX_PAYLOAD,
    ZMARK_LEN,
    RECORD_OVERHEAD,
    LAST_SEQ,
)
from journal.zarea import MAX_SUMMARY  # noqa: F401
from journal.space import ACK_ROOM, CUT_SECTORS  # noqa: F401
from journal.selftest import SelfTestResult  # noqa: F401
from journal.accumulator import Accumulator  # noqa: F401
