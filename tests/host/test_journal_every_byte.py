# Power cut at EVERY byte offset of a scripted sequence of 310 operations
# (200+ appends of mixed sizes with acks, checkpoints and shift closes), on
# CPython only; the core test samples 5000+ offsets on both runtimes.
# Split in four parts so pytest-xdist spreads the work.
import pytest

from test_journal_powercut import sweep

SMALL = (0, 1, 9, 30, 80, 200)


@pytest.mark.parametrize("part", [0, 1, 2, 3])
def test_kz_28_power_cut_at_every_byte(part):
    n = 310
    lo, hi = part * n // 4, (part + 1) * n // 4
    cuts, acc, appends = sweep(n, 1, 7, 50, lo, hi, SMALL)
    assert appends >= 200
    assert cuts > 3000
    assert acc.self_test().ok
