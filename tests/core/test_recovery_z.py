# Power cut at every byte of a shift close (KZ-12, KZ-ND-29 order: Z
# document -> Z area -> counters reset -> checkpoint), in the journal and
# in the Z area: after the reboot the shift is either still open with all
# its counters or closed, with its Z summary written exactly once.
from test_recovery import _sweep, _op_z


def test_kz_nd_29_power_cut_at_every_byte_of_a_shift_close():
    seen = _sweep(_op_z, True)
    assert seen["before"] and seen["after"]


def test_power_cut_in_the_z_area_write():
    seen = _sweep(_op_z, True, "fm")
    assert seen["after"]
