# Power cut at every byte of a sale return and of a cash deposit (the sale,
# withdrawal and Z are swept in test_recovery / test_recovery_z): after the
# reboot the document exists with all its effects or not at all.
from test_recovery import _sweep


def _op_return(r):
    # the sweep's first sale, found by its fiscal sign
    r.open_return("7700000001")
    r.return_line(0)
    r.refund()
    r.fiscalise()


def _op_deposit(r):
    r.deposit(12345)


def test_kz_15_power_cut_at_every_byte_of_a_sale_return():
    seen = _sweep(_op_return, True)
    assert seen["before"] and seen["after"] and seen["dropped"]


def test_kz_15_power_cut_at_every_byte_of_an_offline_return_behind_a_queue():
    seen = _sweep(_op_return, False, queued=True)
    assert seen["before"] and seen["after"] and seen["restored"]


def test_kz_27_power_cut_at_every_byte_of_a_deposit():
    seen = _sweep(_op_deposit, True)
    assert seen["before"] and seen["after"]
