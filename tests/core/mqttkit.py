# An MQTT broker double in memory for the fleet's core tests: each
# connection is a pair of byte pipes; the broker answers CONNECT, PUBLISH
# (QoS 1: PUBACK unless told to hold them), SUBSCRIBE and PINGREQ, keeps
# what it got, and can cut the connection or forget the session.
import asyncio

from fleet import mqtt


class Pipe:
    def __init__(self):
        self.buf = b""
        self.ev = asyncio.Event()
        self.closed = False

    def feed(self, b):
        self.buf += bytes(b)
        self.ev.set()

    def close(self):
        self.closed = True
        self.ev.set()

    async def readexactly(self, n):
        while len(self.buf) < n:
            if self.closed:
                raise EOFError
            self.ev.clear()
            await self.ev.wait()
        out = self.buf[:n]
        self.buf = self.buf[n:]
        return out


class End:
    # one side of a connection: reads its pipe, writes the other's
    def __init__(self, rx, tx):
        self.rx = rx
        self.tx = tx

    async def readexactly(self, n):
        return await self.rx.readexactly(n)

    def write(self, b):
        if self.tx.closed:
            raise OSError("closed")
        self.tx.feed(b)

    async def drain(self):
        pass

    def close(self):
        self.rx.close()
        self.tx.close()


class Broker:
    def __init__(self):
        self.up = True
        self.session = False  # a session kept for the client (CONNACK's flag)
        self.hold = False  # hold the PUBACKs
        self.packets = []  # (first byte, body) of every packet in
        self.published = []  # (topic, payload, qos, pid, retain, dup)
        self.conn = None
        self.opened = 0

    async def open(self, timeout_ms):
        if not self.up:
            raise OSError("refused")
        self.opened += 1
        a, b = Pipe(), Pipe()
        self.conn = End(b, a)
        asyncio.create_task(self._serve(self.conn))
        return End(a, b), End(a, b)

    def cut(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def send(self, pkt):
        self.conn.write(pkt)

    async def _serve(self, c):
        try:
            while True:
                head, body = await mqtt.read_packet(c, 4096)
                self.packets.append((head, body))
                kind = head & 0xF0
                if kind == mqtt.CONNECT:
                    c.write(bytes((mqtt.CONNACK, 2, 1 if self.session else 0, 0)))
                    self.session = True
                elif kind == mqtt.PUBLISH:
                    p = mqtt.parse_publish(head, body)
                    self.published.append(p)
                    if p[2] == 1 and not self.hold:
                        c.write(mqtt.puback_packet(p[3]))
                elif kind == 0x80:
                    c.write(bytes((mqtt.SUBACK, 3, body[0], body[1], 1)))
                elif kind == mqtt.PINGREQ:
                    c.write(bytes((mqtt.PINGRESP, 0)))
        except (EOFError, OSError):
            pass

    def kinds(self, kind):
        return [p for p in self.packets if p[0] & 0xF0 == kind]


async def until(cond, ms=3000):
    # wait for cond() on the loop, at most ms
    n = 0
    while not cond():
        if n >= ms:
            raise AssertionError("timed out")
        await asyncio.sleep(0.01)
        n += 10
