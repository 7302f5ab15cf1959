# The simulated register keeps its flash images in files (host only):
# NorFlash.save/load round trip, and a journal reopened from the files.
from boards.sim.nor_flash import NorFlash
from journal import Accumulator

KEY = b"file-key"


def test_journal_survives_save_and_load(tmp_path):
    lp, fp = str(tmp_path / "log.bin"), str(tmp_path / "fm.bin")
    log, fm = NorFlash.load(lp, 6), NorFlash.load(fp, 2)  # absent files: blank flash
    acc = Accumulator(log, fm, KEY)
    d = acc.append(16, b"receipt", 1700000000, True)
    acc.close_shift(b"Z", 1700000100)
    log.save(lp)
    fm.save(fp)
    acc2 = Accumulator(NorFlash.load(lp, 6), NorFlash.load(fp, 2), KEY)
    assert acc2.unacked() == [d]
    assert acc2.read(d) == (16, 1700000000, b"receipt")
    assert acc2.z_count() == 1 and acc2.self_test().ok
    assert (tmp_path / "log.bin").stat().st_size == 6 * 4096
