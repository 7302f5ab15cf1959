# An MQTT 3.1.1 client on asyncio streams, for the service centre's
# telemetry (docs/fleet.md). The same code runs on CPython and MicroPython:
# it only uses reader.readexactly(n), writer.write(b), await
# writer.drain() and writer.close(), as every net/ channel gives them.
#
#   c = Client(open, client_id, user=None, password=None, keepalive=60,
#              will=None, gate=None, ticks_ms=None)
#       open(timeout_ms) -> (reader, writer): the connection maker (the
#       channels' open() towards the broker, TLS included); will: (topic,
#       payload, retain) the broker publishes when the link dies; gate():
#       False while the connection must wait (the OFD has the channel)
#   c.subscribe(topic, qos=0)   kept, and sent again after every connect
#   c.on_message = f(topic, payload)   a PUBLISH from the broker (bytes)
#   await c.run()               the task: connect, read, ping, reconnect
#                               with backoff; never returns
#   pid = await c.publish(topic, payload, retain=False, qos=0)
#       0 for QoS 0; QoS 1: the packet id, the message kept until its
#       PUBACK and sent again with DUP after a reconnect while the broker
#       keeps the session; OSError when not connected or the window is full
#   c.state(pid) -> ACKED, WAITING or LOST (the broker lost the session:
#       the caller publishes it again)
#   c.connected, c.connects, c.errors, c.backoff_ms (the first pause
#       after a failure, doubled up to BACKOFF_MAX_MS)
#
# The session is kept (clean session 0) so the broker queues QoS 1 commands
# while the register is away. Every buffer is bounded: at most WINDOW QoS 1
# messages in flight, packets in of at most MAX_IN bytes (a longer one is
# read in pieces and dropped, unacknowledged: nothing of ours is that long),
# packets out of at most MAX_OUT bytes.

import asyncio
import random

from aio import Timeout, sleep_ms, wait_for_ms
from compat import const, ticks_diff
from compat import ticks_ms as _ticks_ms

CONNECT = const(0x10)
CONNACK = const(0x20)
PUBLISH = const(0x30)
PUBACK = const(0x40)
SUBSCRIBE = const(0x82)  # with the flags 3.1.1 requires
SUBACK = const(0x90)
PINGREQ = const(0xC0)
PINGRESP = const(0xD0)
DISCONNECT = const(0xE0)
DUP = const(0x08)
RETAIN = const(0x01)

WINDOW = const(4)
MAX_IN = const(512)
MAX_OUT = const(1024)
CONNECT_MS = const(10000)  # connect and CONNACK
WRITE_MS = const(10000)
BACKOFF_MS = const(1000)
BACKOFF_MAX_MS = const(60000)
REFUSED_MS = const(300000)  # the broker refused the credentials: not hammered
ACKED_KEEP = const(8)  # PUBACKed packet ids remembered for state()

ACKED = "acked"
WAITING = "waiting"
LOST = "lost"


class MqttError(OSError):
    pass


# --- packets ---------------------------------------------------------------------


def remaining(n):
    # the remaining length: 7 bits a byte, the high bit says more follows
    if n < 0 or n > 268435455:
        raise ValueError("length", n)
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | 0x80 if n else b)
        if not n:
            return bytes(out)


def _str(s):
    b = s.encode() if isinstance(s, str) else bytes(s)
    if len(b) > 0xFFFF:
        raise ValueError("string")
    return bytes((len(b) >> 8, len(b) & 0xFF)) + b


def _packet(head, body):
    if len(body) > MAX_OUT:
        raise ValueError("packet", len(body))
    return bytes((head,)) + remaining(len(body)) + body


def connect_packet(client_id, user=None, password=None, keepalive=60, clean=False, will=None):
    flags = 0x02 if clean else 0
    tail = _str(client_id)
    if will is not None:
        topic, payload, retain = will
        flags |= 0x04 | (0x20 if retain else 0)  # will QoS 0
        tail += _str(topic) + _str(payload)
    if user is not None:
        flags |= 0x80
        tail += _str(user)
        if password is not None:
            flags |= 0x40
            tail += _str(password)
    body = _str("MQTT") + bytes((4, flags, keepalive >> 8, keepalive & 0xFF)) + tail
    return _packet(CONNECT, body)


def publish_packet(topic, payload, qos=0, retain=False, pid=0, dup=False):
    if qos not in (0, 1):
        raise ValueError("qos", qos)
    head = PUBLISH | (qos << 1) | (RETAIN if retain else 0) | (DUP if dup else 0)
    body = _str(topic)
    if qos:
        body += bytes((pid >> 8, pid & 0xFF))
    if isinstance(payload, str):
        payload = payload.encode()
    return _packet(head, body + payload)


def subscribe_packet(pid, topics):
    # topics: [(topic, qos)]
    body = bytes((pid >> 8, pid & 0xFF))
    for t, q in topics:
        body += _str(t) + bytes((q,))
    return _packet(SUBSCRIBE, body)


def puback_packet(pid):
    return bytes((PUBACK, 2, pid >> 8, pid & 0xFF))


PING = bytes((PINGREQ, 0))
BYE = bytes((DISCONNECT, 0))


def parse_publish(head, body):
    # -> (topic, payload, qos, pid, retain, dup)
    n = (body[0] << 8) | body[1]
    if 2 + n > len(body):
        raise ValueError("topic")
    topic = bytes(body[2 : 2 + n]).decode()
    qos = (head >> 1) & 3
    i = 2 + n
    pid = 0
    if qos:
        pid = (body[i] << 8) | body[i + 1]
        i += 2
    return topic, bytes(body[i:]), qos, pid, bool(head & RETAIN), bool(head & DUP)


async def read_packet(reader, limit=MAX_IN):
    # -> (first byte, body); a body longer than limit is read in pieces of
    # at most limit bytes and dropped: -> (first byte, None)
    head = (await reader.readexactly(1))[0]
    n = 0
    shift = 0
    while True:
        b = (await reader.readexactly(1))[0]
        n |= (b & 0x7F) << shift
        if not b & 0x80:
            break
        shift += 7
        if shift > 21:
            raise MqttError("remaining length")
    if n > limit:
        while n:
            k = min(n, limit)
            await reader.readexactly(k)
            n -= k
        return head, None
    return head, (await reader.readexactly(n)) if n else b""


# --- the client --------------------------------------------------------------------


class Client:
    def __init__(self, open, client_id, user=None, password=None, keepalive=60, will=None, gate=None,
                 ticks_ms=None):
        if not 10 <= keepalive <= 3600:
            raise ValueError("keepalive", keepalive)
        self.open = open
        self.client_id = client_id
        self.user = user
        self.password = password
        self.keepalive = keepalive
        self.will = will
        self.gate = gate
        self.ticks_ms = ticks_ms or _ticks_ms
        self.on_message = None
        self.subs = []  # [(topic, qos)]
        self.inflight = {}  # pid -> (topic, payload, retain): QoS 1 not acknowledged
        self.acked = []  # the last PUBACKed pids
        self.pid = 0
        self.connected = False
        self.connects = 0  # connections made
        self.errors = 0  # connections lost or refused
        self.refused = None  # the last CONNACK refusal code
        self.w = None
        self.lock = None
        self.down = None
        self.backoff_ms = BACKOFF_MS  # the first wait after a failure
        self.rx = 0  # ticks of the last packet in
        self.tx = 0  # and out

    def subscribe(self, topic, qos=0):
        if (topic, qos) not in self.subs:
            self.subs.append((topic, qos))

    def _next_pid(self):
        while True:
            self.pid = self.pid % 0xFFFF + 1
            if self.pid not in self.inflight:
                if self.pid in self.acked:
                    self.acked.remove(self.pid)  # an id used again says nothing of the old message
                return self.pid

    def state(self, pid):
        if pid in self.inflight:
            return WAITING
        return ACKED if pid in self.acked else LOST

    async def publish(self, topic, payload, retain=False, qos=0):
        if not self.connected:
            raise OSError("not connected")
        if qos == 0:
            await self._send(publish_packet(topic, payload, 0, retain))
            return 0
        if len(self.inflight) >= WINDOW:
            raise OSError("window full")
        pid = self._next_pid()
        pkt = publish_packet(topic, payload, 1, retain, pid)  # raises before it is kept
        self.inflight[pid] = (topic, payload, retain)
        try:
            await self._send(pkt)
        except OSError:
            pass  # kept: sent again with DUP after the reconnect
        return pid

    async def _send(self, pkt):
        w = self.w
        if w is None:
            raise OSError("not connected")
        async with self.lock:  # one drain at a time on a stream
            try:
                w.write(pkt)
                await wait_for_ms(w.drain(), WRITE_MS)
            except (OSError, Timeout, EOFError):
                self._lost()
                raise OSError("write failed")
        self.tx = self.ticks_ms()

    def _lost(self):
        if self.down is not None:
            self.down.set()

    # --- the connection ---------------------------------------------------------

    async def _connect(self):
        r, w = await self.open(CONNECT_MS)
        self.w = w
        self.lock = asyncio.Lock()
        self.down = asyncio.Event()
        try:
            w.write(connect_packet(self.client_id, self.user, self.password, self.keepalive, False, self.will))
            await wait_for_ms(w.drain(), WRITE_MS)
            head, body = await wait_for_ms(read_packet(r), CONNECT_MS)
        except (Timeout, EOFError):
            raise MqttError("no CONNACK")
        if head != CONNACK or body is None or len(body) != 2:
            raise MqttError("not a CONNACK")
        if body[1]:
            self.refused = body[1]
            raise MqttError("refused", body[1])
        self.refused = None
        self.rx = self.tx = self.ticks_ms()
        self.connects += 1
        if not body[0] & 1:
            self.inflight = {}  # the broker kept no session: nothing of ours is owed (3.1.1, 3.2.2.2)
        for pid in sorted(self.inflight):
            topic, payload, retain = self.inflight[pid]
            await self._send(publish_packet(topic, payload, 1, retain, pid, True))
        if self.subs:
            await self._send(subscribe_packet(self._next_pid(), self.subs))
        self.connected = True  # the session is whole again: publish() may go
        return r

    async def _read(self, r):
        try:
            while True:
                head, body = await read_packet(r)
                self.rx = self.ticks_ms()
                kind = head & 0xF0
                if body is None:
                    continue  # too long for us: dropped
                if kind == PUBLISH:
                    topic, payload, qos, pid, _, _ = parse_publish(head, body)
                    if qos == 1:
                        await self._send(puback_packet(pid))
                    if self.on_message is not None:
                        self.on_message(topic, payload)
                elif kind == PUBACK and len(body) == 2:
                    pid = (body[0] << 8) | body[1]
                    if self.inflight.pop(pid, None) is not None:
                        self.acked.append(pid)
                        if len(self.acked) > ACKED_KEEP:
                            self.acked.pop(0)
        except (OSError, EOFError, ValueError, IndexError):
            pass  # a broken stream or a malformed packet: the connection goes
        self._lost()

    async def _alive(self, r):
        # read in a task of its own; ping when nothing went out for half the
        # keepalive; a broker silent for one and a half keepalives is gone
        reader = asyncio.create_task(self._read(r))
        half = self.keepalive * 500
        try:
            while True:
                try:
                    await wait_for_ms(self.down.wait(), 1000)
                    return
                except Timeout:
                    pass
                now = self.ticks_ms()
                if ticks_diff(now, self.rx) > 3 * half:
                    return
                if ticks_diff(now, self.tx) >= half:
                    try:
                        await self._send(PING)
                    except OSError:
                        return
        finally:
            reader.cancel()

    def _close(self):
        self.connected = False
        w = self.w
        self.w = None
        if w is not None:
            try:
                w.close()
            except OSError:
                pass

    async def run(self):
        try:
            await self._run()
        finally:
            self._close()  # also when the task is cancelled mid-connect

    async def _run(self):
        wait = self.backoff_ms
        while True:
            if self.gate is not None and not self.gate():
                await sleep_ms(200)
                continue
            try:
                r = await self._connect()
            except (OSError, Timeout, EOFError):
                self.errors += 1
                self._close()
                # doubled after each failure, with up to as much again at
                # random: a fleet does not reconnect at once after a broker
                # restart
                t = REFUSED_MS if self.refused else wait
                await sleep_ms(t + (random.getrandbits(10) * t >> 10))
                wait = min(wait * 2, BACKOFF_MAX_MS)
                continue
            wait = self.backoff_ms
            try:
                await self._alive(r)
            finally:
                self._close()
            self.errors += 1
            await sleep_ms(wait)
