"""The register's telemetry (firmware/fleet) against a real broker
(mosquitto, tools/fleetwatch/broker.py): QoS 1 events survive broker restarts
(with and without the broker's persistence) and network cuts without a loss,
the outbox stays bounded while the broker is away, the status is retained
for a subscriber that comes later, per-register credentials are checked, and
TLS works end to end through the TCP channel."""

import asyncio
import gc
import json
import os
import ssl
import subprocess
import tracemalloc

import pytest
from uikit import provisioned

import app as AP
from fleet import mqtt
from fleet import telemetry as TM
from net.manager import ChannelManager
from net.tcp import TcpChannel
from tools.fleetwatch.broker import Broker, mosquitto

pytestmark = pytest.mark.skipif(mosquitto() is None, reason="mosquitto not installed (tools/setup_system.sh)")


class Proxy:
    """A TCP relay to the broker whose network can be cut: open connections
    are closed and new ones refused until restore()."""

    def __init__(self, port):
        self.port = port
        self.conns = []
        self.cut_off = False
        self.server = None
        self.listen = None

    async def start(self):
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.listen = self.server.sockets[0].getsockname()[1]
        return self

    async def _relay(self, r, w):
        if self.cut_off:
            w.close()
            return
        try:
            br, bw = await asyncio.open_connection("127.0.0.1", self.port)
        except OSError:
            w.close()
            return
        self.conns += [w, bw]

        async def pipe(a, b):
            try:
                while True:
                    d = await a.read(4096)
                    if not d:
                        break
                    b.write(d)
                    await b.drain()
            except (OSError, asyncio.CancelledError):
                pass
            b.close()

        await asyncio.gather(pipe(r, bw), pipe(br, w))

    def cut(self):
        self.cut_off = True
        for w in self.conns:
            w.transport.abort()
        self.conns = []

    def restore(self):
        self.cut_off = False

    def close(self):
        self.server.close()


def opener(port, host="127.0.0.1", tls=None):
    def open_(timeout_ms):
        kw = {"ssl": tls, "server_hostname": host} if tls else {}
        return asyncio.wait_for(asyncio.open_connection(host, port, **kw), timeout_ms / 1000)

    return open_


class Centre:
    """The service centre's side: a subscriber with a session of its own."""

    def __init__(self, port, topic="kkm/+/event", qos=1, user=None, password=None, tls=None, host="127.0.0.1"):
        self.got = []
        self.client = mqtt.Client(opener(port, host, tls), "centre", user, password, 30)
        self.client.backoff_ms = 100
        self.client.subscribe(topic, qos)
        self.client.on_message = lambda t, p: self.got.append((t, p))

    def events(self):
        return sorted({json.loads(p)["n"] for t, p in self.got if t.endswith("/event")})


async def until(cond, s=15.0):
    for _ in range(int(s * 50)):
        if cond():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out")


def _telemetry(app, open_, user=None, password=None):
    c = mqtt.Client(open_, "kkm-" + app.reg.settings.get("factory_no"), user, password, 30)
    c.backoff_ms = 100
    return TM.Telemetry(app.reg, app.desk, c, AP.VERSION, None, lambda: app.paper)


@pytest.fixture
def broker(tmp_path):
    b = Broker(str(tmp_path / "broker"), persistence=True).start()
    yield b
    b.stop()


def _restart(b):
    # the broker goes away and comes back on the same port
    return asyncio.get_running_loop().run_in_executor(None, b.restart, 0.3)


@pytest.mark.parametrize("persistence", [True, False])
def test_events_survive_broker_restarts_and_network_cuts(tmp_path, persistence):
    b = Broker(str(tmp_path / "broker"), persistence=persistence).start()
    _, app = provisioned()

    async def go():
        proxy = await Proxy(b.port).start()
        centre = Centre(b.port)
        t = _telemetry(app, opener(proxy.listen))
        # a broker without persistence forgets the centre's subscription too:
        # the register comes back after the centre did, so the centre sees it all
        t.client.gate = lambda: centre.client.connected
        tasks = [asyncio.create_task(centre.client.run()), asyncio.create_task(t.run())]
        await until(lambda: centre.client.connected and t.client.connected)
        await until(lambda: t.published)
        for i in range(5):
            t.event(TM.LOCK_ENGAGED, i)
        await until(lambda: len(centre.events()) == 5)
        # the broker restarts while events keep coming
        restart = _restart(b)
        for i in range(5, 10):
            t.event(TM.LOCK_ENGAGED, i)
            await asyncio.sleep(0.05)
        await restart
        await until(lambda: len(centre.events()) == 10 and not t.outbox.items, 20)
        # the network between the register and the broker is cut
        proxy.cut()
        for i in range(10, 15):
            t.event(TM.LOCK_CLEARED, i)
        await asyncio.sleep(1.0)
        assert len(t.outbox.items) == 5  # kept while away
        proxy.restore()
        await until(lambda: len(centre.events()) == 15 and not t.outbox.items, 20)
        for k in tasks:
            k.cancel()
        proxy.close()
        return t, centre

    try:
        t, centre = asyncio.run(go())
    finally:
        b.stop()
    assert centre.events() == list(range(1, 16))  # every event, none twice counted
    assert t.outbox.dropped == 0
    assert t.client.connects >= 3  # reconnected after the restart and after the cut


def test_outbox_stays_bounded_while_the_broker_is_away(broker):
    _, app = provisioned()

    async def go():
        t = _telemetry(app, opener(broker.port))
        task = asyncio.create_task(t.run())
        await until(lambda: t.published)
        await asyncio.get_running_loop().run_in_executor(None, broker.stop)
        for i in range(200):  # warm up: the outbox at its size
            t.event(TM.LOCK_ENGAGED, i)
            await asyncio.sleep(0)
        tracemalloc.start()
        half = []
        for i in range(5000):
            t.event(TM.LOCK_ENGAGED, i)
            if i % 100 == 0:
                await asyncio.sleep(0.001)
            if i % 2500 == 0:
                # what is held now: the reconnect attempts' transient objects vary, so
                # the first half is the baseline and the second must not add to it
                gc.collect()
                half.append(tracemalloc.get_traced_memory()[0])
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - half[1]
        tracemalloc.stop()
        await asyncio.get_running_loop().run_in_executor(None, broker.start)
        centre = Centre(broker.port)
        ctask = asyncio.create_task(centre.client.run())
        await until(lambda: not t.outbox.items, 20)
        task.cancel()
        ctask.cancel()
        return t, grown

    t, grown = asyncio.run(go())
    assert len(t.outbox.items) == 0 and t.outbox.dropped == 5200 - TM.OUTBOX
    assert grown < 8 * 1024, grown  # 2,500 events later: nothing more held


def test_status_is_retained_for_a_subscriber_that_comes_later(broker):
    _, app = provisioned()
    fn = app.reg.settings.get("factory_no")

    async def go():
        t = _telemetry(app, opener(broker.port))
        task = asyncio.create_task(t.run())
        await until(lambda: t.published)
        await asyncio.sleep(0.2)
        task.cancel()
        await asyncio.sleep(0.1)
        late = Centre(broker.port, "kkm/+/status", 0)
        ltask = asyncio.create_task(late.client.run())
        await until(lambda: late.got)
        ltask.cancel()
        return late.got

    got = asyncio.run(go())
    topic, payload = got[0]
    assert topic == "kkm/%s/status" % fn
    st = json.loads(payload)
    assert st["factory_no"] == fn and st["version"] == AP.VERSION


def test_per_register_credentials(tmp_path):
    b = Broker(str(tmp_path / "broker"), users={"kkm-1": "s3cret", "centre": "c"}).start()
    _, app = provisioned()

    async def go():
        bad = _telemetry(app, opener(b.port), "kkm-1", "wrong")
        good = _telemetry(app, opener(b.port), "kkm-1", "s3cret")
        tasks = [asyncio.create_task(bad.client.run()), asyncio.create_task(good.client.run())]
        await until(lambda: good.client.connected and bad.client.refused)
        for k in tasks:
            k.cancel()
        return bad, good

    try:
        bad, good = asyncio.run(go())
    finally:
        b.stop()
    assert bad.client.refused == 5 and not bad.client.connected  # not authorised
    assert good.client.connects == 1


def _cert(folder):
    key, crt = os.path.join(folder, "key.pem"), os.path.join(folder, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", crt, "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost"], check=True, capture_output=True)
    return crt, key


def test_tls_through_the_tcp_channel(tmp_path):
    crt, key = _cert(str(tmp_path))
    b = Broker(str(tmp_path / "broker"), tls=(crt, key)).start()
    ctx = ssl.create_default_context(cafile=crt)
    _, app = provisioned()
    fn = app.reg.settings.get("factory_no")

    async def go():
        m = ChannelManager([TcpChannel()])
        m.reach("localhost", b.port)
        c = mqtt.Client(lambda ms: m.open("localhost", b.port, ms, ctx), "kkm-tls", keepalive=30)
        t = TM.Telemetry(app.reg, app.desk, c, AP.VERSION, None, lambda: app.paper)
        task = asyncio.create_task(t.run())
        late = Centre(b.port, "kkm/+/status", 0, tls=ctx, host="localhost")
        ltask = asyncio.create_task(late.client.run())
        await until(lambda: late.got)
        task.cancel()
        ltask.cancel()
        # a plain connection to the TLS listener gets nowhere
        plain = mqtt.Client(opener(b.port), "kkm-plain", keepalive=30)
        ptask = asyncio.create_task(plain.run())
        await asyncio.sleep(1.0)
        ptask.cancel()
        return late.got, plain

    try:
        got, plain = asyncio.run(go())
    finally:
        b.stop()
    assert got[0][0] == "kkm/%s/status" % fn
    assert plain.connects == 0 and plain.errors >= 1

