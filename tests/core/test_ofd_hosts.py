# KZ-40.1, KZ-41: the OFD addresses entered at fiscalisation, or changed in
# the settings with the shift closed, are where the next exchange goes, also
# after a reboot. The register, ofd.port and ofd.client run for real on the
# NOR emulator against the in-memory OFD.
from kkm import auth as A
from kkm import locks as L
from regkit import REG, refused, sell
from test_ofd_session import _bench

NEW = [["ofd2.example.kz", 7778], ["10.1.1.1", 7777]]


def _watch_hosts(b):
    b.hosts = []
    ofd = b.memofd
    connect = ofd.connect

    def watched(host, port, timeout_s):
        b.hosts.append((host, port))
        return connect(host, port, timeout_s)

    ofd.connect = watched


def _close_and_change(b, changes):
    r = b.reg
    r.login(2, "2222", A.MODE_SHIFT_CLOSE)
    r.close_shift()
    r.login(2, "2222", A.MODE_PROGRAMMING)
    keys = r.change_settings(changes)
    r.login(1, "1111", A.MODE_SALES)
    return keys


def test_kz_40_1_fiscalisation_addresses_are_used():
    b = _bench()
    _watch_hosts(b)
    assert not sell(b.reg).offline
    assert b.hosts == [("ofd.example.kz", 7777)] == [tuple(h) for h in REG["ofd_hosts"]]


def test_kz_40_1_changed_addresses_take_effect_and_survive_a_reboot():
    b = _bench()
    assert not sell(b.reg).offline
    _close_and_change(b, {"ofd_hosts": NEW})
    _watch_hosts(b)
    assert not sell(b.reg).offline
    assert b.hosts == [("ofd2.example.kz", 7778)]
    r = b.boot()
    r.login(1, "1111", A.MODE_SALES)
    assert not sell(r).offline
    assert b.hosts[-1] == ("ofd2.example.kz", 7778)
    assert b.port.client.hosts == [("ofd2.example.kz", 7778), ("10.1.1.1", 7777)]


def test_kz_41_addresses_cannot_change_with_the_shift_open():
    b = _bench()
    assert not sell(b.reg).offline
    r = b.reg
    r.login(2, "2222", A.MODE_PROGRAMMING)
    assert refused(r.change_settings, {"ofd_hosts": NEW})[0] == L.E_SHIFT_OPEN
    assert b.port.client.hosts == [("ofd.example.kz", 7777)]
