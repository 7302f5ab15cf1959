# The fleet's MQTT 3.1.1 client (firmware/fleet/mqtt.py): packets against
# the bytes of the standard's examples, and the client against a broker
# double in memory (tests/core/mqttkit.py): QoS 1 kept until its PUBACK and
# sent again with DUP after a reconnect, the subscriptions sent after every
# connect, commands in, bounded buffers.
import asyncio

from mqttkit import Broker, Pipe, until

from fleet import mqtt


def test_remaining_length_as_the_standard_shows():
    # MQTT 3.1.1, 2.2.3: the boundaries of one to four bytes
    cases = ((0, b"\x00"), (127, b"\x7f"), (128, b"\x80\x01"), (16383, b"\xff\x7f"), (16384, b"\x80\x80\x01"),
             (2097151, b"\xff\xff\x7f"), (2097152, b"\x80\x80\x80\x01"), (268435455, b"\xff\xff\xff\x7f"))
    for n, b in cases:
        assert mqtt.remaining(n) == b, n

    async def back(n):
        p = Pipe()
        p.feed(b"\x30" + mqtt.remaining(n) + b"x" * n)
        return await mqtt.read_packet(p, 200)

    for n in (0, 5, 127, 128, 200):
        assert asyncio.run(back(n)) == (0x30, b"x" * n), n


def test_connect_packet_bytes():
    # fixed header, "MQTT", level 4, flags, keepalive, then the payload
    assert mqtt.connect_packet("a", keepalive=60) == b"\x10\x0d\x00\x04MQTT\x04\x00\x00\x3c\x00\x01a"
    p = mqtt.connect_packet("k1", "u", "pw", 30, False, ("w", "0", True))
    # user + password + will retain + will flag; clean session 0
    assert p[9] == 0x80 | 0x40 | 0x20 | 0x04
    assert p[12:] == b"\x00\x02k1\x00\x01w\x00\x010\x00\x01u\x00\x02pw"


def test_publish_subscribe_puback_bytes():
    assert mqtt.publish_packet("a/b", b"hi") == b"\x30\x07\x00\x03a/bhi"
    assert mqtt.publish_packet("t", "x", 1, True, 10, True) == b"\x3b\x06\x00\x01t\x00\x0ax"
    assert mqtt.subscribe_packet(1, [("c/#", 1)]) == b"\x82\x08\x00\x01\x00\x03c/#\x01"
    assert mqtt.puback_packet(258) == b"\x40\x02\x01\x02"
    topic, payload, qos, pid, retain, dup = mqtt.parse_publish(0x3B, b"\x00\x01t\x00\x0ax")
    assert (topic, payload, qos, pid, retain, dup) == ("t", b"x", 1, 10, True, True)


def test_packets_out_are_bounded():
    try:
        mqtt.publish_packet("t", b"x" * (mqtt.MAX_OUT + 1))
    except ValueError:
        return
    assert False, "an oversized packet was built"


def test_a_long_packet_in_is_read_in_pieces_and_dropped():
    async def go():
        p = Pipe()
        p.feed(b"\x30" + mqtt.remaining(3000) + b"y" * 3000 + b"\xd0\x00")
        first = await mqtt.read_packet(p, 512)
        second = await mqtt.read_packet(p, 512)
        return first, second

    first, second = asyncio.run(go())
    assert first == (0x30, None)
    assert second == (0xD0, b"")  # the stream is still in step


def _client(broker, **kw):
    c = mqtt.Client(broker.open, "kkm-1", "u", "p", 60, **kw)
    c.backoff_ms = 10
    return c


def test_qos1_acknowledged_and_subscriptions_sent_on_connect():
    b = Broker()
    got = []
    c = _client(b)
    c.subscribe("kkm/1/cmd", 1)
    c.on_message = lambda t, p: got.append((t, p))

    async def go():
        task = asyncio.create_task(c.run())
        await until(lambda: c.connected)
        await until(lambda: b.kinds(0x80))
        pid = await c.publish("kkm/1/event", b"e1", False, 1)
        await until(lambda: c.state(pid) == mqtt.ACKED)
        # a command with QoS 1: acknowledged and handed over
        b.send(mqtt.publish_packet("kkm/1/cmd", b'{"cmd":"refresh"}', 1, False, 7))
        await until(lambda: got)
        await until(lambda: b.kinds(mqtt.PUBACK))
        task.cancel()
        return pid

    asyncio.run(go())
    assert got == [("kkm/1/cmd", b'{"cmd":"refresh"}')]
    assert mqtt.parse_publish(*b.kinds(mqtt.PUBLISH)[0])[:2] == ("kkm/1/event", b"e1")
    assert b.kinds(mqtt.PUBACK)[0][1] == b"\x00\x07"
    sub = b.kinds(0x80)[0][1]
    assert sub[2:] == b"\x00\x09kkm/1/cmd\x01"
    # clean session 0, credentials sent
    assert b.kinds(mqtt.CONNECT)[0][1][7] & 0xC2 == 0xC0


def test_unacknowledged_qos1_goes_again_with_dup_after_a_reconnect():
    b = Broker()
    b.hold = True
    c = _client(b)
    c.subscribe("kkm/1/cmd", 1)

    async def go():
        task = asyncio.create_task(c.run())
        await until(lambda: c.connected)
        pid = await c.publish("kkm/1/event", b"e1", False, 1)
        await until(lambda: b.published)
        assert c.state(pid) == mqtt.WAITING
        b.hold = False
        b.cut()  # the link drops before the PUBACK
        await until(lambda: c.connects == 2)
        await until(lambda: c.state(pid) == mqtt.ACKED)
        task.cancel()
        return pid

    pid = asyncio.run(go())
    first, again = b.published[0], b.published[1]
    assert first[3] == again[3] == pid
    assert not first[5] and again[5]  # DUP the second time
    assert again[1] == b"e1"
    assert len(b.kinds(0x80)) == 2  # subscribed again after the reconnect


def test_a_broker_without_the_session_makes_the_message_lost():
    # 3.1.1, 3.2.2.2: no session on the broker: the client's state goes,
    # the caller (the outbox) publishes it again
    b = Broker()
    b.hold = True
    c = _client(b)

    async def go():
        task = asyncio.create_task(c.run())
        await until(lambda: c.connected)
        pid = await c.publish("kkm/1/event", b"e1", False, 1)
        await until(lambda: b.published)
        b.session = False  # the broker restarted without persistence
        b.cut()
        await until(lambda: c.connects == 2)
        task.cancel()
        return pid

    pid = asyncio.run(go())
    assert c.state(pid) == mqtt.LOST
    assert len(b.published) == 1


def test_window_and_not_connected_refused():
    b = Broker()
    b.hold = True
    c = _client(b)

    async def go():
        try:
            await c.publish("t", b"x", False, 1)
            assert False, "published while not connected"
        except OSError:
            pass
        task = asyncio.create_task(c.run())
        await until(lambda: c.connected)
        for i in range(mqtt.WINDOW):
            await c.publish("t", b"x", False, 1)
        try:
            await c.publish("t", b"x", False, 1)
            assert False, "the window grew"
        except OSError:
            pass
        task.cancel()

    asyncio.run(go())
    assert len(c.inflight) == mqtt.WINDOW


def test_reconnect_with_backoff_while_the_broker_is_down():
    b = Broker()
    b.up = False
    c = _client(b)

    async def go():
        task = asyncio.create_task(c.run())
        await until(lambda: c.errors >= 3)
        b.up = True
        await until(lambda: c.connected)
        task.cancel()

    asyncio.run(go())
    assert c.connects == 1 and c.errors >= 3


def test_ping_when_idle_and_a_silent_broker_is_dropped():
    b = Broker()
    now = [0]
    c = mqtt.Client(b.open, "kkm-1", keepalive=10, ticks_ms=lambda: now[0])
    c.backoff_ms = 10

    async def go():
        task = asyncio.create_task(c.run())
        await until(lambda: c.connected)
        now[0] += 5000  # half the keepalive with nothing sent
        await until(lambda: b.kinds(mqtt.PINGREQ), 3000)
        now[0] += 16000  # nothing came in for 1.5 keepalives
        await until(lambda: not c.connected, 3000)
        task.cancel()

    asyncio.run(go())
    assert c.errors >= 1


def test_gate_holds_the_connection():
    b = Broker()
    free = [False]
    c = _client(b, gate=lambda: free[0])

    async def go():
        task = asyncio.create_task(c.run())
        await asyncio.sleep(0.3)
        assert b.opened == 0
        free[0] = True
        await until(lambda: c.connected)
        task.cancel()

    asyncio.run(go())
