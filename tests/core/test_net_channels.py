# The OFD's channels (firmware/net): the manager's priority and failover
# within the 5 s budget with the real client over an in-memory OFD, the
# Wi-Fi station's reconnect backoff, the GSM channel's bring-up, probes and
# recovery, and the channel of each document in its ACK, on the status
# strip and on the X report (the app). Both runtimes.
# Requirements: KZ-18, KZ-25, KZ-29, KZ-40.5.
import asyncio
import struct

import app as AP
from compat import ticks_diff, ticks_ms
from kkm import records as R
from net import EHOSTUNREACH
from net import manager as NM
from net.gsm import BACKOFF_MS as GSM_BACKOFF
from net.gsm import RECOVER_AFTER, GsmChannel
from net.wifi import BACKOFF_MS, BACKOFF_MAX_MS, WifiChannel
from ofd import codec
from ofd import frame
from ofd import schema as S
from ofd.client import OfdClient
from ofd.session import OK, Session
from ofdkit import BREAD, HOST, KKM, Link, LinkChannel, MemOfd
from regkit import REG
from uikit import drive, login, provisioned, screen

ECONNREFUSED = 111


class Radio(LinkChannel):
    # a channel over an in-memory OFD whose link can drop (up() False);
    # silent: it takes the request and never answers (a link dying under it)
    def __init__(self, name, link):
        LinkChannel.__init__(self, link)
        self.name = name
        self.on = True
        self.silent = False
        self.refuse = False
        self.sent = []  # the frames that went out through it

    def up(self):
        return self.on

    async def open(self, host, port, timeout_ms):
        if not self.on:
            raise OSError(EHOSTUNREACH)
        if self.refuse:
            raise OSError(ECONNREFUSED)
        if self.silent:
            s = _Silent(self)
            return s, s
        r, w = await LinkChannel.open(self, host, port, timeout_ms)
        return _Tap(self, r), _Tap(self, w)


class _Tap:
    def __init__(self, ch, s):
        self.ch = ch
        self.s = s

    async def readexactly(self, n):
        return await self.s.readexactly(n)

    def write(self, b):
        self.ch.sent.append(bytes(b))
        self.s.write(b)

    async def drain(self):
        pass

    def close(self):
        self.s.close()


class _Silent:
    def __init__(self, ch):
        self.ch = ch

    async def readexactly(self, n):
        while True:
            await asyncio.sleep(3600)

    def write(self, b):
        self.ch.sent.append(bytes(b))

    async def drain(self):
        pass

    def close(self):
        pass


def _head(data):
    h, _ = frame.split(data)
    return h.token, h.reqnum


def _client(chs, ofd=None):
    ofd = ofd or MemOfd(REG["token"])
    m = NM.ChannelManager(chs)
    return OfdClient(Session(KKM, REG["token"]), m, [HOST]), m, ofd


def _probe():
    return codec.encode(S.Request, {"command": S.COMMAND_SYSTEM, "service": {}}), S.COMMAND_SYSTEM


def test_kz_40_5_the_first_channel_up_in_the_configured_order_carries():
    ofd = MemOfd(REG["token"])
    wifi, gsm = Radio("wifi", ofd), Radio("gsm", ofd)
    c, m, _ = _client([wifi, gsm], ofd)
    out = asyncio.run(c.exchange(*_probe()))
    assert out.status == OK and out.channel == "wifi" and len(wifi.sent) == 1 and not gsm.sent
    wifi.on = False  # no link: the next channel at once, no wait
    out = asyncio.run(c.exchange(*_probe()))
    assert out.status == OK and out.channel == "gsm" and out.elapsed_ms < 1000
    wifi.on = True  # back: the priority holds again
    assert asyncio.run(c.exchange(*_probe())).channel == "wifi"
    assert m.states() == [("wifi", "up"), ("gsm", "up")]
    c2, m2, _ = _client([gsm, wifi], ofd)  # the other priority (KZ-40.5)
    assert asyncio.run(c2.exchange(*_probe())).channel == "gsm"


def test_kz_18_failover_within_the_budget_when_wifi_dies_mid_exchange():
    # the request went out over Wi-Fi and the link dropped before the
    # answer: the same TOKEN and REQNUM go over GSM within the 5 s budget
    ofd = MemOfd(REG["token"])
    wifi, gsm = Radio("wifi", ofd), Radio("gsm", ofd)
    wifi.silent = True
    c, m, _ = _client([wifi, gsm], ofd)

    async def main():
        async def drop():
            await asyncio.sleep(0.3)
            wifi.on = False

        asyncio.create_task(drop())
        t0 = ticks_ms()
        out = await c.exchange(*_probe())
        return out, ticks_diff(ticks_ms(), t0)

    out, ms = asyncio.run(main())
    assert out.status == OK and out.channel == "gsm"
    assert ms < 1500, ms  # 300 ms on Wi-Fi, then the link watch and one retry pause
    assert len(wifi.sent) == 1 and len(gsm.sent) == 1
    assert _head(wifi.sent[0]) == _head(gsm.sent[0])  # one request: the same token and number
    assert len(ofd.stored) == 1
    assert m.switches == 1


def test_kz_18_a_channel_that_refuses_is_held_back_then_tried_again():
    ofd = MemOfd(REG["token"])
    wifi, gsm = Radio("wifi", ofd), Radio("gsm", ofd)
    now = [0]
    m = NM.ChannelManager([wifi, gsm], lambda: now[0])
    c = OfdClient(Session(KKM, REG["token"]), m, [HOST], ticks_ms=lambda: now[0])
    wifi.refuse = True
    assert asyncio.run(c.exchange(*_probe())).channel == "gsm"
    wifi.refuse = False
    assert [ch.name for ch in m.order()] == ["gsm", "wifi"]  # held back
    assert asyncio.run(c.exchange(*_probe())).channel == "gsm"
    now[0] = NM.HOLD_MS
    assert asyncio.run(c.exchange(*_probe())).channel == "wifi"


def test_kz_29_no_channel_up_ends_the_exchange_at_once():
    ofd = MemOfd(REG["token"])
    wifi, gsm = Radio("wifi", ofd), Radio("gsm", ofd)
    wifi.on = gsm.on = False
    c, m, _ = _client([wifi, gsm], ofd)
    out = asyncio.run(c.exchange(*_probe()))
    assert out.status != OK and out.reason == "unreachable" and out.elapsed_ms < 100


class Station:
    # network.WLAN's station interface: connect() starts an association
    # that succeeds when `ap` is True
    def __init__(self):
        self.ap = False
        self.joined = False
        self.calls = 0
        self.on = False

    def active(self, on=None):
        if on is not None:
            self.on = on
        return self.on

    def connect(self, ssid, key):
        self.calls += 1
        self.joined = self.ap
        self.creds = (ssid, key)

    def disconnect(self):
        self.joined = False

    def isconnected(self):
        return self.joined and self.ap


def test_wifi_reconnects_with_a_doubling_backoff_and_starts_over_once_up():
    sta = Station()
    now = [0]
    ch = WifiChannel(sta, "shop", "key", ticks_ms=lambda: now[0])
    ch.tcp.configure = lambda hosts: None
    assert ch.state() == "down" and not ch.up()
    times = []
    for t in range(0, 40000, 500):
        now[0] = t
        c = sta.calls
        asyncio.run(ch.tend())
        if sta.calls != c:
            times.append(t)
    # tries at 0, then after 4, 8, 16 s (the backoff doubles)
    assert times[:4] == [0, BACKOFF_MS, 3 * BACKOFF_MS, 7 * BACKOFF_MS], times
    assert ch.state() == "connecting"
    sta.ap = True
    now[0] = 100000
    asyncio.run(ch.tend())
    assert ch.up() and ch.state() == "up"
    asyncio.run(ch.tend())
    assert ch.backoff == BACKOFF_MS  # starts over
    sta.ap = False  # the access point went away: reconnect at once
    c = sta.calls
    asyncio.run(ch.tend())
    assert sta.calls == c + 1 and not ch.up()
    assert BACKOFF_MAX_MS >= 60000
    off = WifiChannel(sta, "", "")
    assert off.state() == "off" and not off.up()


def test_wifi_without_link_is_unreachable_at_once():
    sta = Station()
    ch = WifiChannel(sta, "shop", "key")

    async def main():
        try:
            await ch.open("ofd", 7777, 5000)
        except OSError as e:
            return e.args[0]

    assert asyncio.run(main()) == EHOSTUNREACH


class FakeModem:
    # the modem driver's interface (drivers/simcom.py) with scripted faults
    def __init__(self):
        self.ready = False
        self.state = "off"
        self.fail = 0  # start() fails this many more times
        self.starts = 0
        self.recovered = 0
        self.checks = 0
        self.healthy = True

    async def start(self):
        self.starts += 1
        if self.fail:
            self.fail -= 1
            self.state = "no_network"
            raise OSError(5, "not registered")
        self.ready = True
        self.state = "up"

    async def check(self):
        self.checks += 1
        if not self.healthy:
            self.ready = False
            self.state = "down"
        return self.healthy

    async def recover(self):
        self.recovered += 1

    async def position(self):
        return (43238949, 76945465, "cell")


def test_gsm_brings_the_bearer_up_early_backs_off_and_recovers_a_wedged_modem():
    m = FakeModem()
    m.fail = RECOVER_AFTER + 1
    now = [0]
    ch = GsmChannel(m, lambda: now[0])
    starts = []
    for t in range(0, 200000, 1000):
        now[0] = t
        n = m.starts
        asyncio.run(ch.tend())
        if m.starts != n:
            starts.append(t)
        if ch.up():
            break
    assert starts[:3] == [0, GSM_BACKOFF, 3 * GSM_BACKOFF], starts  # 5 s, then 10 s
    assert m.recovered == 1  # the power key after RECOVER_AFTER failures in a row
    assert ch.up() and ch.state() == "up"
    assert asyncio.run(ch.position()) == (43238949, 76945465, "cell")
    # the health probe: every PROBE_MS while up; a lost bearer is found
    m.healthy = False
    now[0] += 30000
    asyncio.run(ch.tend())
    assert m.checks == 1 and not ch.up()


def _two_radio_app():
    b, app = provisioned()
    wifi, gsm = Radio("wifi", b.link), Radio("gsm", b.link)
    b.channels = [wifi, gsm]
    app = AP.build(b)  # booted again with both channels
    login(app)
    return b, app, wifi, gsm


def _ack_channel(acc, seq):
    for s, rtype, ts, p in acc.records(seq + 1, True):
        if rtype == 1 and struct.unpack_from("<I", p, 0)[0] == seq:
            return R.split_ack(p[4:])
    return None


def test_kz_18_the_channel_of_each_document_in_its_ack_on_the_strip_and_the_x_report():
    b, app, wifi, gsm = _two_radio_app()
    drive(app, BREAD, "PLU", "200", "ENT", "PAY", "CASH")
    first = app.reg.last
    assert not first.offline
    sign, ch = _ack_channel(app.reg.acc, first.seq)
    assert sign == first.fiscal_sign and ch == "wifi"
    wifi.on = False
    drive(app, "ESC", BREAD, "PLU", "200", "ENT", "PAY", "CASH")
    second = app.reg.last
    assert not second.offline and _ack_channel(app.reg.acc, second.seq) == (second.fiscal_sign, "gsm")
    app.refresh()
    assert screen(app).startswith("Онлайн [0] gsm")
    drive(app, "ESC")
    asyncio.run(app.desk.x_report())
    lines = [t for st, t in b.printer.printed[-1]]
    i = lines.index("БАЙЛАНЫС АРНАЛАРЫ")
    assert lines[i + 1].startswith("wifi:") and lines[i + 1].endswith("жоқ")
    assert lines[i + 2].startswith("gsm:") and lines[i + 2].endswith("бар, соңғы алмасу")


def test_an_ack_without_a_channel_reads_as_before():
    assert R.split_ack(b"5000000001") == ("5000000001", None)
    assert R.split_ack(R.ack_payload("ack:7", "gsm")) == ("ack:7", "gsm")
    assert R.ack_payload("9" * 40, "wifi") == b"9" * 40  # too long for the room: the sign alone


def test_the_link_watch_ends_a_read_when_the_link_drops():
    ofd = Link(REG["token"])
    wifi = Radio("wifi", ofd)
    wifi.silent = True
    m = NM.ChannelManager([wifi])

    async def main():
        r, w = await m.open(HOST[0], HOST[1], 5000)

        async def drop():
            await asyncio.sleep(0.1)
            wifi.on = False

        asyncio.create_task(drop())
        t0 = ticks_ms()
        try:
            await r.readexactly(18)
        except OSError:
            return ticks_diff(ticks_ms(), t0)

    ms = asyncio.run(main())
    assert ms is not None and ms < 500
    assert m.order() == []  # the link is down: nothing to try


class Located(Radio):
    # a channel that can tell the position (a modem's cell fix), or not yet
    def __init__(self, name, link):
        Radio.__init__(self, name, link)
        self.fix = None

    async def position(self):
        return self.fix


def test_s000_2_the_modem_position_with_its_source_else_the_configured_one():
    from kkm import auth as A

    b, app = provisioned()
    wifi, gsm = Radio("wifi", b.link), Located("gsm", b.link)
    b.channels = [wifi, gsm]
    app = AP.build(b)
    reg = app.reg
    reg.login(2, "2222", A.MODE_PROGRAMMING)
    reg.change_settings({"geo_position": [51128207, 71430411, "manual"]})
    reg.logout()
    login(app)

    async def net_for(ms):
        t = asyncio.create_task(app._net())
        await asyncio.sleep(ms / 1000)
        t.cancel()
        await asyncio.sleep(0)

    def sent_geo():
        n = len(b.link.log)
        assert asyncio.run(app.desk.test())
        return b.link.log[n][1]["service"]["security_stats"]["geo_position"]

    asyncio.run(net_for(20))  # the modem has no fix yet: the configured position
    assert sent_geo() == {"latitude": 51128207, "longitude": 71430411, "source": "manual"}
    gsm.fix = (43238949, 76945465, "cell")
    asyncio.run(net_for(20))
    assert sent_geo() == {"latitude": 43238949, "longitude": 76945465, "source": "cell"}


def test_kz_40_5_the_channels_setting_orders_the_board_channels():
    b, app, wifi, gsm = _two_radio_app()
    assert [c.name for c in app.desk.channels.order()] == ["wifi", "gsm"]
    b, app = provisioned(channels=["gsm", "wifi"])  # the service engineer's priority
    wifi, gsm = Radio("wifi", b.link), Radio("gsm", b.link)
    b.channels = [wifi, gsm]  # the board's own order
    app = AP.build(b)
    login(app)
    assert [c.name for c in app.desk.channels.order()] == ["gsm", "wifi"]
    drive(app, BREAD, "PLU", "200", "ENT", "PAY", "CASH")
    assert _ack_channel(app.reg.acc, app.reg.last.seq)[1] == "gsm"
    assert [n for n, st in app.desk.channels.states()] == ["gsm", "wifi"]


def test_kz_40_5_channel_parameters_from_the_settings():
    sta = Station()
    sta.ap = True
    wifi = WifiChannel(sta, "board-ssid", "board-key")
    wifi.tcp.configure = lambda hosts: None
    m = FakeModem()
    m.apn = "board.apn"
    gsm = GsmChannel(m)
    asyncio.run(wifi.tend())
    asyncio.run(gsm.tend())
    assert wifi.up() and sta.creds == ("board-ssid", "board-key") and gsm.up()
    empty = {"wifi_ssid": "", "wifi_key": "", "gsm_apn": ""}
    wifi.params(empty)  # nothing entered: the board's stay
    gsm.params(empty)
    assert wifi.up() and gsm.up() and m.starts == 1
    entered = {"wifi_ssid": "shop", "wifi_key": "secret", "gsm_apn": "internet.beeline.kz"}
    wifi.params(entered)
    gsm.params(entered)
    assert not wifi.up() and not gsm.up()  # connected again with the new parameters
    asyncio.run(wifi.tend())
    asyncio.run(gsm.tend())
    assert wifi.up() and sta.creds == ("shop", "secret")
    assert gsm.up() and m.apn == "internet.beeline.kz" and m.starts == 2
