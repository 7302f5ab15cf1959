# The register's telemetry (firmware/fleet/telemetry.py) against the broker
# double of mqttkit: the status carries identity and counts and no fiscal
# data (a receipt's goods, amount or buyer IIN never leave); the outbox is
# bounded and keeps an event until its PUBACK, also across a broker that
# lost the session; locks engaged and cleared become events; commands
# other than "refresh" and "update" are ignored and none changes fiscal
# state; nothing goes while the OFD sender has the channel; the app runs
# the task when its board names a broker.
import asyncio
import json

from mqttkit import Broker, until
from regkit import line
from uikit import provisioned

import app as AP
from fleet import mqtt
from fleet import telemetry as TM
from kkm import document as D
from kkm import locks as L

BUYER = "900101300126"
GOODS = "Tajik secret pilaf"
PRICE = 987653  # 9,876.53 tenge: a figure nothing else shows


def _sale_with_buyer(reg):
    # a receipt with a buyer's IIN, left queued with its autonomous sign
    reg.login(1, "1111", 1)
    r = reg.open_receipt(D.OP_SELL)
    r.add_line(line(GOODS, PRICE))
    r.add_payment(D.Payment(D.PAY_CASH, r.total()))
    r.set_buyer(BUYER)
    reg.settle(reg.fiscalise(), None)


def _telemetry(app, broker, idle=None, **kw):
    c = mqtt.Client(broker.open, "kkm-test", keepalive=60)
    c.backoff_ms = 10
    return TM.Telemetry(app.reg, app.desk, c, AP.VERSION, idle, lambda: app.paper, **kw)


def _payloads(broker, suffix):
    return [p[1] for p in broker.published if p[0].endswith(suffix)]


def _events(broker):
    return [json.loads(p) for p in _payloads(broker, "/event")]


def _run(t, broker, cond, ms=3000):
    async def go():
        task = asyncio.create_task(t.run())
        await until(lambda: t.client.connected)
        await until(cond, ms)
        task.cancel()

    asyncio.run(go())


def test_status_names_the_register_and_no_fiscal_data_leaves():
    _, app = provisioned()
    _sale_with_buyer(app.reg)
    b = Broker()
    t = _telemetry(app, b)
    t.event(TM.LOCK_ENGAGED, L.NO_PAPER)
    _run(t, b, lambda: _payloads(b, "/status") and _events(b))
    st = json.loads(_payloads(b, "/status")[-1])
    reg = app.reg
    assert st["factory_no"] == reg.settings.get("factory_no") and st["rnm"] == reg.settings.get("rnm")
    assert st["version"] == AP.VERSION
    assert st["queue"] == 1 and st["mode"] == "offline"
    assert st["oldest_age"] == 0 and st["lock_in_h"] == 72.0
    assert st["z_left"] == reg.acc.z_slots_left() and st["journal_free"] > 0
    assert st["paper"] == "ok" and st["channel"] is not None
    retained = [p for p in b.published if p[0].endswith("/status")]
    assert retained[-1][4] and retained[-1][0] == "kkm/%s/status" % reg.settings.get("factory_no")
    # what a receipt holds never leaves: goods, amount, buyer
    for p in b.published:
        text = p[1].decode()
        for secret in (BUYER, GOODS, str(PRICE), "9876.53", reg.settings.get("bin")):
            assert secret not in text, (secret, p[0])


def test_outbox_is_bounded_and_counts_what_it_dropped():
    ob = TM.Outbox(4)
    items = [b"e%d" % i for i in range(7)]
    for e in items:
        ob.put(e)
    assert ob.items == items[3:] and ob.dropped == 3
    ob.done(items[0])  # dropped meanwhile: nothing else leaves
    assert len(ob.items) == 4
    ob.done(items[3])
    assert ob.head() is items[4]


def test_an_event_waits_for_its_puback_across_a_lost_session():
    _, app = provisioned()
    b = Broker()
    b.hold = True
    t = _telemetry(app, b)
    t.event(TM.SELFTEST_FAILED, [L.SELFTEST_HW])

    async def go():
        task = asyncio.create_task(t.run())
        await until(lambda: _events(b))
        assert len(t.outbox.items) == 1  # no PUBACK yet
        b.session = False  # the broker restarted without its sessions
        b.hold = False
        b.cut()
        await until(lambda: not t.outbox.items, 5000)
        task.cancel()

    asyncio.run(go())
    ev = _events(b)
    assert len(ev) == 2 and ev[0] == ev[1]  # the same event, published again
    assert ev[0]["kind"] == TM.SELFTEST_FAILED and ev[0]["detail"] == [L.SELFTEST_HW]


def test_locks_engaged_and_cleared_become_events():
    b0, app = provisioned()
    b = Broker()
    t = _telemetry(app, b)
    t.look()
    b0.printer.state = "no_paper"
    t.look()
    b0.printer.state = "ok"
    t.look()
    kinds = [(e["kind"], e["detail"]) for e in [json.loads(p) for p in t.outbox.items]]
    assert kinds == [(TM.LOCK_ENGAGED, L.NO_PAPER), (TM.LOCK_CLEARED, L.NO_PAPER)]


class _Updater:
    def __init__(self):
        self.announced = []

    def announce(self, url, version):
        # as fleet.updater: False for a version not newer than the running one
        if version == "0.0.1":
            return False
        if version == "bad":
            raise ValueError("version", version)
        self.announced.append((url, version))
        return True


def _fiscal_state(reg):
    return (reg.acc.last_seq, reg.acc.unacked_count(), reg.counters.encode(), reg.settings.encode(),
            reg.shift_open, sorted(reg.locks.flags), reg.auth.encode())


def test_commands_only_refresh_and_announce_and_never_touch_fiscal_state():
    _, app = provisioned()
    _sale_with_buyer(app.reg)
    reg = app.reg
    before = _fiscal_state(reg)
    up = _Updater()
    b = Broker()
    t = _telemetry(app, b, updater=up)
    cmds = [b'{"cmd": "close_shift"}', b'{"cmd": "set_settings", "token": 1}', b'{"cmd": "set_aside", "seq": 3}',
            b"\xff\x00not json", b'["cmd", "refresh"]', b'{"cmd": "update", "url": 5}',
            b'{"cmd": "update", "url": "http://u/p.bin", "version": "0.2.0"}', b'{"cmd": "refresh"}',
            b'{"cmd": "update", "url": "http://u/old.bin", "version": "0.0.1"}',
            b'{"cmd": "update", "url": "http://u/x.bin", "version": "bad"}']
    for c in cmds:
        t.command("kkm/x/cmd", c)
    assert up.announced == [("http://u/p.bin", "0.2.0")]
    assert t.ignored == 8 and t.want
    assert _fiscal_state(reg) == before
    # over the broker too: a command published to the register's topic
    t.want = False

    async def go():
        task = asyncio.create_task(t.run())
        await until(lambda: t.client.connected and b.kinds(0x80))
        n = t.published
        b.send(mqtt.publish_packet(t.topic + "/cmd", b'{"cmd": "z_report"}', 1, False, 9))
        b.send(mqtt.publish_packet(t.topic + "/cmd", b'{"cmd": "refresh"}', 1, False, 10))
        await until(lambda: t.published > n)
        task.cancel()

    asyncio.run(go())
    assert t.ignored == 9
    assert _fiscal_state(reg) == before


def test_nothing_goes_while_the_sender_has_the_channel():
    _, app = provisioned()
    b = Broker()
    free = [False]
    t = _telemetry(app, b, idle=lambda: free[0])
    t.event(TM.LOCK_ENGAGED, L.NO_PAPER)

    async def go():
        task = asyncio.create_task(t.run())
        await until(lambda: t.client.connected)
        await asyncio.sleep(0.2)
        assert await t.step() is False
        assert not b.published
        free[0] = True
        await until(lambda: _events(b) and _payloads(b, "/status"))
        task.cancel()

    asyncio.run(go())


BROKER = ("fleet.test", 1883)


class _Router:
    # one channel to the OFD double and to the broker double, by address
    name = "wifi"
    tls = True

    def __init__(self, ofd, broker):
        self.ofd = ofd
        self.broker = broker
        self.tls_seen = []

    async def open(self, host, port, timeout_ms, tls=None):
        if (host, port) == BROKER:
            self.tls_seen.append(tls)
            return await self.broker.open(timeout_ms)
        return await self.ofd.open(host, port, timeout_ms)


def test_the_app_runs_the_telemetry_when_the_board_names_a_broker():
    b0, _ = provisioned()
    br = Broker()
    ch = _Router(b0.channels[0], br)
    b0.channels = [ch]
    b0.fleet = {"host": BROKER[0], "port": BROKER[1], "user": "kkm", "password": "pw", "tls": True}
    app = AP.build(b0)

    async def go():
        task = asyncio.create_task(app.run())
        await until(lambda: _payloads(br, "/status"), 5000)
        app.stop()
        await task

    asyncio.run(go())
    st = json.loads(_payloads(br, "/status")[-1])
    assert st["factory_no"] == app.reg.settings.get("factory_no")
    assert ch.tls_seen[0] is True  # the board's TLS setting reached the connection
    assert app.desk.sender.test is not None  # the OFD's power-on test went first


def test_the_sender_says_when_the_channel_is_free():
    _, app = provisioned()
    s = app.desk.sender
    assert not s.idle()  # the power-on connection test goes first
    asyncio.run(s.step())
    assert s.test is not None and s.idle()
    s.busy = True  # a live document's exchange
    assert not s.idle()
    s.busy = False
    _sale_with_buyer(app.reg)  # queued while online: the replay is due
    assert not s.idle()


def test_a_self_test_failure_and_an_applied_update_are_reported_at_start():
    _, app = provisioned()
    t = _telemetry(app, Broker(), failed=[L.SELFTEST_SW], updated="rolled back")
    ev = [json.loads(p) for p in t.outbox.items]
    assert [(e["kind"], e["detail"]) for e in ev] == [
        (TM.SELFTEST_FAILED, [L.SELFTEST_SW]), (TM.UPDATE_APPLIED, {"version": AP.VERSION, "result": "rolled back"})]
    assert [e["n"] for e in ev] == [1, 2]
