# The register and the OFD agree: the autonomous number the buyer holds is
# the one the OFD receives (KZ-29.3, KZ-30.3, KZ-34(1)), every service block
# carries the register's position (S000-2), the offline period keeps its
# start through the replay and a reboot (KZ-30.1), the online Z is the
# OFD's (KZ-31.5), and a document whose answer was lost is counted as the
# OFD counts it. The real register, port and client on the NOR emulator
# against the in-memory OFD of ofdkit; both runtimes.
from kkm import layout
from ofd import schema as S
from ofdkit import run, link_bench
from regkit import sell


def _qr_sign(lines):
    # the i= of the receipt's QR code
    qr = [t for s, t in lines if s & layout.QR][0]
    return qr.split("i=")[1].split("&")[0]


def test_kz_29_3_kz_34_the_autonomous_number_printed_is_in_the_qr_and_sent():
    b = link_bench()
    b.link.cut()
    res = sell(b.reg)
    assert res.offline
    i = _qr_sign(b.printer.printed[-1])
    assert i == res.fiscal_sign  # KZ-34(1): the QR carries the printed sign
    b.link.restore()
    assert b.reg.replay() == 1
    t = b.link.request(-1)["ticket"]
    assert "%d" % t["offline_ticket_number"] == i  # KZ-30.3: the same number is sent


def test_s000_2_every_service_block_carries_the_configured_position():
    from kkm import auth as A

    b = link_bench()
    r = b.reg
    r.login(2, "2222", A.MODE_PROGRAMMING)
    r.change_settings({"geo_position": [51128207, 71430411, "manual"]})
    r.login(1, "1111", A.MODE_SALES)
    n = len(b.link.log)
    sell(r)  # a ticket
    r.deposit(10000)  # a placement
    run(b.port.probe(True))  # COMMAND_SYSTEM
    r.x_report()  # COMMAND_REPORT
    r.login(1, "1111", A.MODE_SHIFT_CLOSE)
    r.close_shift()  # COMMAND_CLOSE_SHIFT
    cmds = [c for c, q in b.link.log[n:]]
    assert cmds == [S.COMMAND_TICKET, S.COMMAND_MONEY_PLACEMENT, S.COMMAND_SYSTEM, S.COMMAND_REPORT,
                    S.COMMAND_CLOSE_SHIFT]
    for c, q in b.link.log[n:]:
        geo = q["service"]["security_stats"]["geo_position"]
        assert geo == {"latitude": 51128207, "longitude": 71430411, "source": "manual"}


def test_s000_2_position_setting_checked_and_none_sent_when_not_entered():
    from kkm import auth as A
    from kkm import locks as L
    from regkit import refused

    b = link_bench()
    r = b.reg
    r.login(2, "2222", A.MODE_PROGRAMMING)
    for bad in ([51128207, 71430411], [91000000, 0, "manual"], [0, 0, ""], [True, 0, "manual"]):
        assert refused(r.change_settings, {"geo_position": bad})[0] == L.E_BAD_SETTING
    r.login(1, "1111", A.MODE_SALES)
    sell(r)
    assert "security_stats" not in b.link.log[-1][1]["service"]  # nothing entered: nothing made up
    r.login(2, "2222", A.MODE_PROGRAMMING)
    assert refused(r.change_settings, {"geo_position": [0, 0, "manual"]})[0] == L.E_SHIFT_OPEN  # registration data


def test_kz_30_1_offline_period_keeps_its_start_through_the_replay_and_a_reboot():
    from kkm import auth as A
    from ofd.messages import date_time

    b = link_bench()
    r = b.reg
    b.link.cut()
    t0 = b.clock.now()
    assert sell(r).offline  # offline work begins with this sale's attempt
    for step in (6, 1):
        b.clock.advance(step)
        assert sell(r).offline
    b.clock.advance(12)
    r.login(1, "1111", A.MODE_SHIFT_CLOSE)
    r.close_shift()  # the Z waits in the queue with its own close time
    assert len(r.acc.unacked()) == 4
    off = r.settings.get("tz_offset")
    b.link.restore()
    b.clock.advance(60)
    n = len(b.link.log)
    assert r.replay(2) == 2
    b.boot()  # a power cut in the middle of the replay
    b.clock.advance(60)
    assert b.reg.replay() == 2
    sent = b.link.log[n:]
    assert [c for c, q in sent] == [S.COMMAND_TICKET, S.COMMAND_TICKET, S.COMMAND_TICKET, S.COMMAND_CLOSE_SHIFT]
    for c, q in sent:
        assert q["service"]["offline_period"]["begin_time"] == date_time(t0 + off)
    assert sent[-1][1]["service"]["offline_period"]["end_time"] == date_time(b.clock.now() + off)
    # the queue is empty: back online, the next request has no offline period
    b.reg.login(1, "1111", A.MODE_SALES)
    assert not sell(b.reg).offline
    assert "offline_period" not in b.link.log[-1][1]["service"]


def _z_bench():
    from kkm import auth as A

    b = link_bench()
    r = b.reg
    sell(r)
    r.deposit(5000)
    r.login(1, "1111", A.MODE_SHIFT_CLOSE)
    return b


def _printed(lines):
    return "\n".join([t for s, t in lines])


def test_kz_31_5_online_z_prints_the_z_the_ofd_formed():
    from kkm import texts as T

    b = _z_bench()

    def ofd_z(own):
        z = dict(own)
        z["checksum"] = "OFD-Z-1"  # the OFD's own report, not an echo of ours
        return z

    b.link.z = ofd_z
    zx = b.reg.close_shift()
    assert b.reg.z_source == "ofd" and zx["checksum"] == "OFD-Z-1"
    page = _printed(b.printer.printed[-1])
    assert "OFD-Z-1" in page and T.text(T.L_Z_REPORT, "kk") in page
    assert T.text(T.L_Z_DIFFERS, "kk") not in page  # they agree


def test_kz_31_5_online_z_shows_where_the_register_disagrees():
    from kkm import texts as T

    b = _z_bench()

    def ofd_z(own):
        z = dict(own)
        z["cash_sum"] = {"bills": 999, "coins": 0}
        return z

    b.link.z = ofd_z
    own_cash = b.reg.counters.cash
    zx = b.reg.close_shift("ru")
    assert b.reg.z_source == "ofd"
    lines = b.printer.printed[-1]
    page = _printed(lines)
    assert T.text(T.L_Z_DIFFERS, "ru") in page
    cash = [t for s, t in lines if t.startswith(T.text(T.L_CASH_SUM, "ru"))]
    # the OFD's figure in the report, then the difference: the OFD's / the register's
    assert cash[0].endswith("999.00") and cash[1].endswith("999.00 / %d.%02d" % (own_cash // 100, own_cash % 100))
    assert zx["differs"] == [(T.L_CASH_SUM, None, "999.00", "%d.%02d" % (own_cash // 100, own_cash % 100))]


def test_kz_31_5_offline_or_without_a_report_the_z_is_the_registers():
    b = _z_bench()
    b.reg.close_shift()  # the OFD answers the close without a Z
    assert b.reg.z_source == "own"
    b = _z_bench()
    b.link.z = lambda own: own
    b.link.cut()
    b.reg.close_shift()
    assert b.reg.z_source == "own" and len(b.reg.acc.unacked()) == 1  # the Z waits in the queue
