"""A SIMCom modem on a pseudo-terminal: the AT dialogue of the SIM800 and the
SIM7600 classes, with TCP forwarded to a real address (the OFD simulator).

The register's driver (drivers/simcom.py) opens the terminal's path as its
UART (boards/host/hw/uart.py). Latency is emulated: the round trip of the
radio link (rtt_ms: a request reaches the server rtt/2 after CIPSEND, the
answer comes rtt/2 after the server sent it), the packet attach (attach_ms,
CIICR / NETOPEN) and the TCP connect (one round trip plus connect_ms).
Faults on demand, by attribute or method, from any thread:

    registered = False       no registration (CREG/CGREG/CEREG: 2, searching)
    csq = 3                  weak signal
    sim = "absent" | "pin"   no SIM card, or a SIM locked with a PIN (pin_code)
    cme = {"AT+CIICR": "..."}  a command answered +CME ERROR: <text>
    slow_ms = 800            every reply that late
    garble = 3               the next 3 replies come with garbage bytes first
    urc_mid_data = True      a URC in the middle of each piece of data
    close_mid_send()         the connection closes when the next data goes
    lose_network(), find_network()   the cell goes (context lost) and comes back
    reboot()                 the modem restarts: RDY, echo on, no bearer
    mute = True              nothing answers (a wedged modem); the power key
                             (power_key()) restarts it

    sim = ModemSim("sim800", ("127.0.0.1", 7777), rtt_ms=600); sim.start(); sim.path
    python -m tools.modemsim --kind sim7600 --to 127.0.0.1:7777 --rtt 600   (prints the path)
"""

import argparse
import asyncio
import os
import pty
import random
import threading
import time
import tty

URCS = ("+CSQ: 18,0", "RING", "+CREG: 1", '+CMTI: "SM",1')  # harmless URCs for the middle of data


class ModemSim:
    def __init__(self, kind, target, rtt_ms=0, attach_ms=0, connect_ms=0, seed=0):
        if kind not in ("sim800", "sim7600"):
            raise ValueError("kind: sim800 or sim7600")
        self.kind = kind
        self.target = target  # (host, port), or route(host, port) -> (host, port)
        self.rtt_ms = rtt_ms
        self.attach_ms = attach_ms
        self.connect_ms = connect_ms
        self.rnd = random.Random(seed)
        self.registered = True
        self.csq = 20
        self.sim = "ready"
        self.pin_code = "1234"
        self.cme = {}
        self.slow_ms = 0
        self.garble = 0
        self.urc_mid_data = False
        self.mute = False
        self.commands = []  # every command line received
        self.connects = 0
        self.sent = 0  # bytes forwarded to the server
        self._close_next = False
        self._boot()
        self.master, slave = pty.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        self._slave = slave  # kept open: the terminal keeps its raw settings
        self.loop = None
        self.thread = None

    def _boot(self):
        self.echo = True
        self.unlocked = False
        self.bearer = False
        self.apn = None
        self.rxget = False
        self.conn = None  # (reader, writer) to the server
        self.inbox = bytearray()  # SIM7600 manual receive: bytes the modem holds
        self.pending = None  # (n, command) data awaited after the prompt
        self.buf = bytearray()

    # --- control, from any thread -------------------------------------------------

    def start(self):
        ready = threading.Event()

        def main():
            self.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self.loop)
            self.loop.add_reader(self.master, self._readable)
            ready.set()
            self.loop.run_forever()
            tasks = asyncio.all_tasks(self.loop)
            for t in tasks:
                t.cancel()
            self.loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            self.loop.close()

        self.thread = threading.Thread(target=main, daemon=True)
        self.thread.start()
        ready.wait()
        return self

    def stop(self):
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
        os.close(self.master)
        os.close(self._slave)

    def _call(self, fn):
        if self.loop is None:
            fn()
        else:
            self.loop.call_soon_threadsafe(fn)

    def reboot(self):
        def go():
            self._hang_up(False)
            self._boot()
            self._out("RDY" if self.kind == "sim800" else "PB DONE", delay=False)

        self._call(go)

    def power_key(self):
        self.mute = False
        self.reboot()

    def close_mid_send(self):
        self._close_next = True

    def lose_network(self):
        # the cell is gone: no registration, the context and the connection drop
        def go():
            self.registered = False
            self._hang_up(True)
            if self.bearer:
                self.bearer = False
                self._out("+PDP: DEACT" if self.kind == "sim800" else "+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY",
                          delay=False)

        self._call(go)

    def find_network(self):
        self.registered = True

    def drop(self):
        # the network closes the connection now
        self._call(lambda: self._hang_up(True))

    # --- the terminal -------------------------------------------------------------

    def _write(self, b):
        try:
            os.write(self.master, b)
        except OSError:
            pass

    def _out(self, *lines, delay=True, raw=None):
        data = b"".join(b"\r\n" + s.encode() + b"\r\n" for s in lines)
        if raw is not None:
            data += raw
        if delay and self.garble > 0:
            self.garble -= 1
            data = bytes(self.rnd.randrange(128, 256) for _ in range(5)) + b"\r\n" + data
        if delay and self.slow_ms:
            self.loop.call_later(self.slow_ms / 1000, self._write, data)
        else:
            self._write(data)

    def _readable(self):
        try:
            d = os.read(self.master, 4096)
        except OSError:
            return
        if self.mute:
            return
        self.buf += d
        while self.buf:
            if self.pending is not None:
                n, cmd = self.pending
                if len(self.buf) < n:
                    return
                data, self.buf = bytes(self.buf[:n]), self.buf[n:]
                self.pending = None
                self._data(data)
                continue
            i = self.buf.find(b"\r")
            if i < 0:
                return
            line = bytes(self.buf[:i]).strip(b"\n ").decode("latin-1")
            self.buf = self.buf[i + 1:]
            if not line:
                continue
            if self.echo:
                self._write(line.encode() + b"\r\n")
            if line.upper().startswith("AT"):
                self.commands.append(line)
                self._command(line)

    # --- the dialogue -------------------------------------------------------------

    def _command(self, c):
        u = c.upper()
        for k, text in self.cme.items():
            if u.startswith(k.upper()):
                return self._out("+CME ERROR: " + text)
        if u == "AT":
            return self._out("OK")
        if u in ("ATE0", "ATE1"):
            self.echo = u == "ATE1"
            return self._out("OK")
        if u.startswith("AT+CMEE") or u.startswith("AT+IPR") or u == "AT&W" or u.startswith("AT+CIPMUX") \
                or u.startswith("AT+CIPHEAD") or u.startswith("AT+CIPMODE") or u.startswith("AT+CGDCONT") \
                or u.startswith("AT+CGAUTH") or u.startswith("AT+SAPBR"):
            return self._out("OK")
        if u == "AT+CPIN?":
            if self.sim == "absent":
                return self._out("+CME ERROR: SIM not inserted")
            if self.sim == "pin" and not self.unlocked:
                return self._out("+CPIN: SIM PIN", "OK")
            return self._out("+CPIN: READY", "OK")
        if u.startswith("AT+CPIN="):
            if c.split("=", 1)[1].strip('"') == self.pin_code:
                self.unlocked = True
                return self._out("OK")
            return self._out("+CME ERROR: incorrect password")
        if u == "AT+CSQ":
            return self._out("+CSQ: %d,0" % self.csq, "OK")
        for r in ("CREG", "CGREG", "CEREG"):
            if u == "AT+%s?" % r:
                return self._out("+%s: 0,%d" % (r, 1 if self.registered else 2), "OK")
        if self.kind == "sim800":
            return self._sim800(c, u)
        return self._sim7600(c, u)

    def _attach(self, then):
        if not self.registered:
            return self._out("ERROR")
        def up():
            self.bearer = True
            then()
        self.loop.call_later(self.attach_ms / 1000, up)

    def _sim800(self, c, u):
        if u == "AT+CGATT?":
            return self._out("+CGATT: %d" % (1 if self.registered else 0), "OK")
        if u.startswith("AT+CGATT="):
            return self._out("OK" if self.registered else "ERROR")
        if u == "AT+CIPSHUT":
            self._hang_up(False)
            self.bearer = False
            return self._out("SHUT OK")
        if u.startswith("AT+CSTT="):
            self.apn = c.split("=", 1)[1].split(",")[0].strip('"')
            return self._out("OK")
        if u == "AT+CIICR":
            return self._attach(lambda: self._out("OK"))
        if u.startswith("AT+CIFSR"):
            return self._out("10.64.1.2", "OK") if self.bearer else self._out("ERROR")
        if u == "AT+CIPSTATUS":
            st = "CONNECT OK" if self.conn else ("IP STATUS" if self.bearer else "IP INITIAL")
            return self._out("OK", "STATE: " + st)
        if u.startswith("AT+CIPSTART="):
            if not self.bearer:
                return self._out("ERROR")
            if self.conn:
                return self._out("ALREADY CONNECT")
            host, port = _host_port(c.split("=", 1)[1].split(",")[1:])
            self._out("OK")
            return self._connect(host, port, "CONNECT OK", "CONNECT FAIL")
        if u.startswith("AT+CIPSEND="):
            if not self.conn:
                return self._out("ERROR")
            self.pending = (int(u.split("=")[1]), u)
            return self._write(b"\r\n> ")
        if u.startswith("AT+CIPCLOSE"):
            if not self.conn:
                return self._out("ERROR")
            self._hang_up(False)
            return self._out("CLOSE OK")
        if u.startswith("AT+CLBS="):
            return self._out("+CLBS: 0,76.945465,43.238949,550", "OK")
        if u.startswith("AT+CFUN=1,1"):
            self._out("OK")
            return self.reboot()
        return self._out("ERROR")

    def _sim7600(self, c, u):
        if u == "AT+NETOPEN?":
            return self._out("+NETOPEN: %d" % (1 if self.bearer else 0), "OK")
        if u == "AT+NETOPEN":
            if self.bearer:
                return self._out("+IP ERROR: Network is already opened", "ERROR")
            self._out("OK")
            if not self.registered:
                return self._out("+NETOPEN: 1")
            return self._attach(lambda: self._out("+NETOPEN: 0"))
        if u == "AT+NETCLOSE":
            self._hang_up(False)
            self.bearer = False
            return self._out("OK", "+NETCLOSE: 0")
        if u == "AT+CIPRXGET=1":
            self.rxget = True
            return self._out("OK")
        if u.startswith("AT+CIPOPEN="):
            if not self.bearer:
                return self._out("ERROR")
            host, port = _host_port(c.split("=", 1)[1].split(",")[2:])
            self._out("OK")
            return self._connect(host, port, "+CIPOPEN: 0,0", "+CIPOPEN: 0,4")
        if u.startswith("AT+CIPSEND=0,"):
            if not self.conn:
                return self._out("+CIPERROR: 4", "ERROR")
            self.pending = (int(u.split(",")[1]), u)
            return self._write(b"\r\n>")
        if u.startswith("AT+CIPRXGET=4"):
            return self._out("+CIPRXGET: 4,0,%d" % len(self.inbox), "OK")
        if u.startswith("AT+CIPRXGET=2,0,"):
            n = int(u.split(",")[2])
            d, self.inbox = bytes(self.inbox[:n]), self.inbox[n:]
            head = "\r\n+CIPRXGET: 2,0,%d,%d\r\n" % (len(d), len(self.inbox))
            urc = b""
            if self.urc_mid_data:
                urc = b"\r\n" + self.rnd.choice(URCS).encode() + b"\r\n"  # between the data and its OK
            return self._write(head.encode() + d + urc + b"\r\nOK\r\n")
        if u.startswith("AT+CIPCLOSE=0"):
            if not self.conn:
                return self._out("+CIPCLOSE: 0,4", "ERROR")
            self._hang_up(False)
            return self._out("OK", "+CIPCLOSE: 0,0")
        if u == "AT+CGPSINFO":
            return self._out("+CGPSINFO: 4314.336940,N,07656.727900,E,021226,183000.0,800.0,0.0,0.0", "OK")
        if u.startswith("AT+CLBS="):
            return self._out("+CLBS: 0,76.945465,43.238949,550", "OK")
        if u == "AT+CRESET":
            self._out("OK")
            return self.reboot()
        return self._out("ERROR")

    # --- TCP to the server ------------------------------------------------------------

    def _route(self, host, port):
        return self.target(host, port) if callable(self.target) else self.target

    def _connect(self, host, port, ok, fail):
        async def go():
            await asyncio.sleep((self.rtt_ms + self.connect_ms) / 1000)
            h, p = self._route(host, port)
            try:
                self.conn = await asyncio.open_connection(h, p)
            except OSError:
                return self._out(fail)
            self.connects += 1
            self._out(ok)
            asyncio.ensure_future(self._pump(self.conn))

        asyncio.ensure_future(go())

    def _data(self, data):
        conn = self.conn
        if self._close_next:
            self._close_next = False
            self._hang_up(True)
            return self._out("SEND FAIL") if self.kind == "sim800" else self._out("+CIPERROR: 4", "ERROR")
        if self.kind == "sim800":
            self._out("SEND OK")
        else:
            self._out("OK", "+CIPSEND: 0,%d,%d" % (len(data), len(data)))
        self.sent += len(data)

        def deliver():
            if self.conn is conn and conn is not None:
                conn[1].write(data)

        self.loop.call_later(self.rtt_ms / 2000, deliver)

    async def _pump(self, conn):
        r = conn[0]
        while True:
            try:
                d = await r.read(1024)
            except OSError:
                d = b""
            await asyncio.sleep(self.rtt_ms / 2000)
            if self.conn is not conn:
                return
            if not d:
                return self._hang_up(True)
            self._arrived(d)

    def _arrived(self, d):
        if self.kind == "sim800":
            if self.urc_mid_data and len(d) > 1:
                k = len(d) // 2
                self._write(b"\r\n+IPD,%d:" % k + d[:k])
                self._out(self.rnd.choice(URCS), delay=False)
                self._write(b"\r\n+IPD,%d:" % (len(d) - k) + d[k:])
            else:
                self._write(b"\r\n+IPD,%d:" % len(d) + d)
            return
        self.inbox += d
        if self.urc_mid_data:
            self._out(self.rnd.choice(URCS), delay=False)
        self._out("+CIPRXGET: 1,0", delay=False)

    def _hang_up(self, tell):
        conn, self.conn = self.conn, None
        if conn is not None:
            conn[1].close()
            if tell:
                self._out("CLOSED" if self.kind == "sim800" else "+IPCLOSE: 0,1", delay=False)
        self.pending = None


def _host_port(parts):
    return parts[0].strip('"'), int(parts[1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kind", default="sim800", choices=("sim800", "sim7600"))
    ap.add_argument("--to", default="127.0.0.1:7777", help="where CIPSTART/CIPOPEN connects")
    ap.add_argument("--rtt", type=int, default=600, help="round trip of the radio link, ms")
    ap.add_argument("--attach", type=int, default=2000, help="packet attach time, ms")
    a = ap.parse_args(argv)
    host, port = a.to.rsplit(":", 1)
    sim = ModemSim(a.kind, (host, int(port)), a.rtt, a.attach).start()
    print(sim.path, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        sim.stop()


if __name__ == "__main__":
    main()
