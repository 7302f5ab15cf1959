# A register on a damaged journal (KZ-2, KZ-3.3, KZ-9): it starts, shows the
# accumulator-integrity lock and what to do, refuses fiscal documents, and
# the service engineer can read out every record that is still intact.
import struct

from kkm import auth as A
from kkm import document as D
from kkm import locks as L
from kkm import records as R
from regkit import fiscalised_bench, sell, refused


def _flip_record(log, seq):
    # one bit of the timestamp of record seq (its CRC no longer checks)
    key = struct.pack("<I", seq)
    data = bytes(log.data)
    p = data.find(key)
    while data[p - 4] != 0xA5:
        p = data.find(key, p + 1)
    log.data[p + 4] ^= 0x01


def _flip_in(log, marker):
    # one bit of a stored payload, as flash damage would do
    pos = bytes(log.data).find(marker)
    assert pos > 0
    log.data[pos] ^= 0x04


def test_kz_3_3_register_starts_on_a_record_damaged_after_the_checkpoint():
    b = fiscalised_bench()
    r = b.reg
    sell(r, None)
    r.checkpoint()
    for n in range(3):
        sell(r, None)
    cp = r.acc.last_checkpoint()
    seqs = [s for s, t, ts, p in r.acc.records(cp + 1) if t == R.R_RECEIPT]
    assert len(seqs) == 3
    damaged = seqs[1]
    _flip_in(b.log, bytes(r.acc.read(damaged)[2][:24]))
    r = b.boot()  # must not raise
    assert L.ACC_INTEGRITY in r.active_locks()
    # what to do, in both languages
    assert "сервис" in r.lock_message(L.ACC_INTEGRITY, "ru").lower()
    assert "сервис" in r.lock_message(L.ACC_INTEGRITY, "kk").lower()
    r.login(1, "1111", A.MODE_SALES)
    assert refused(r.open_receipt, D.OP_SELL)[0] == L.ACC_INTEGRITY
    assert refused(r.deposit, 1000)[0] == L.ACC_INTEGRITY
    r.login(1, "1111", A.MODE_SHIFT_CLOSE)
    assert refused(r.close_shift)[0] == L.ACC_INTEGRITY
    # the service engineer reads out every intact record, the damaged one
    # is named as a gap
    assert refused(lambda: list(r.journal_readout(1)))[0] == L.E_NO_RIGHT
    r.login(9, "9999", A.MODE_SERVICE)
    got = list(r.journal_readout(1))
    seen = [x[0] for x in got]
    assert damaged not in seen and seqs[0] in seen and seqs[2] in seen
    assert seen == sorted(seen) and seen[-1] == r.acc.last_seq
    assert r.recovery.damaged == damaged


def test_kz_3_3_register_starts_on_a_damaged_checkpoint():
    b = fiscalised_bench()
    r = b.reg
    sell(r, None)
    r.checkpoint()
    sell(r, None)
    cp = r.acc.last_checkpoint()
    _flip_in(b.log, bytes(r.acc.read(cp)[2][:24]))
    r = b.boot()
    assert r.recovery.damaged == cp and L.ACC_INTEGRITY in r.active_locks()


def test_kz_3_3_damaged_queued_document_stops_the_replay_not_the_register():
    # The record just before an offline receipt still waiting for the OFD
    # is damaged, so that receipt does not read back as the next record:
    # sending the queue stops there (the order is kept, KZ-30.2) and the
    # register goes on running, locked.
    b = fiscalised_bench()
    r = b.reg
    r.checkpoint()
    b.ofd.online = False
    sell(r, None)
    sell(r, None)
    queued = r.acc.unacked()
    assert len(queued) == 2
    assert r.acc.read(queued[0] - 1)[0] == R.R_OPEN
    _flip_record(b.log, queued[0] - 1)
    r = b.boot()
    assert L.ACC_INTEGRITY in r.active_locks() and r.acc.unacked() == queued
    b.ofd.online = True
    assert r.replay() == 0 and b.ofd.sent == []
    assert L.ACC_INTEGRITY in r.active_locks()
