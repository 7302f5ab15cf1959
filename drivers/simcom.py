# SIMCom GSM/LTE modems over a UART with asyncio streams: the AT dialogue,
# the bearer (packet data context) and one TCP socket through AT commands
# (HARDWARE.md section 4). Nothing here knows what the bytes are.
#
#   m = Sim800(uart, apn="", user="", pwd="", pin=None, pwrkey=None, reset=None, ticks_ms=None)
#   m = Sim7600(...)                      the same interface
#   await m.start()     sync, echo off, SIM (PIN), signal (CSQ), registration
#                       (CREG/CGREG, CEREG), the bearer -> OSError(reason in m.state)
#   m.ready             the bearer is up (a socket can be opened at once)
#   m.state             "off" | "no_sim" | "pin" | "no_network" | "weak" | "attaching" | "up" | "dead"
#   await m.check()     health: registration, signal, the bearer -> ready
#   await m.recover()   a power-key pulse (or the reset line), then start() again later
#   reader, writer = await m.open(host, port, timeout_ms)   one socket at a time
#   await m.position()  (latitude, longitude, source) in millionths of a degree, or None
#   m.csq, m.attach_ms, m.connect_ms    the last signal and times measured
#
# uart: a machine.UART (timeout=0) or a stand-in; its asyncio streams are
# built as on MicroPython (asyncio.StreamReader(uart)), or taken from
# uart.streams() where the stand-in has them (CPython). pwrkey, reset:
# machine.Pin outputs, or None.
#
# Parsing: one task reads the UART into a bounded buffer and splits it into
# lines; a line is a URC (closed socket, lost context, reboot, data waiting),
# the header of raw data (+IPD,<n>: or +CIPRXGET: 2,...), the "> " prompt of
# CIPSEND, or part of the answer of the command in progress. Data and URCs
# may come in the middle of a command's answer. Echo lines are skipped (a
# rebooted modem has echo on again).

import asyncio
import time

try:
    from time import ticks_diff
    from time import ticks_ms as _ticks_ms
except ImportError:  # CPython

    def _ticks_ms():
        return int(time.monotonic() * 1000)

    def ticks_diff(a, b):
        return a - b


Timeout = asyncio.TimeoutError
ETIMEDOUT = 110
ECONNRESET = 104
ECONNREFUSED = 111
EIO = 5
RX_MAX = 4096  # a socket's receive buffer (an OFD answer is well under 2 KB)
LINE_MAX = 512  # a longer "line" is garbage: dropped
CMD_MS = 2000  # an ordinary command's answer
REG_MS = 60000  # registration after a power-on
CSQ_MIN = 5  # -103 dBm: below it the link is too weak to carry an exchange
FINAL = ("OK", "ERROR", "+CME ERROR", "+CMS ERROR")
REBOOT = ("RDY", "Call Ready", "SMS Ready", "PB DONE", "START", "NORMAL POWER DOWN")


def _wait(aw, ms):
    if hasattr(asyncio, "wait_for_ms"):
        return asyncio.wait_for_ms(aw, ms)
    return asyncio.wait_for(aw, ms / 1000)


def _sleep(ms):
    if hasattr(asyncio, "sleep_ms"):
        return asyncio.sleep_ms(ms)
    return asyncio.sleep(ms / 1000)


def _running_loop():
    # CPython: the loop of this run (a task of an ended run stays pending
    # for ever); MicroPython has one loop
    f = getattr(asyncio, "get_running_loop", None)
    return f() if f is not None else None


def streams(uart):
    s = getattr(uart, "streams", None)
    if s is not None:
        return s()
    return asyncio.StreamReader(uart), asyncio.StreamWriter(uart, {})


def _ints(s):
    # "+X: 1,2,"a",3" -> the integers after the colon (others as None)
    out = []
    for p in s[s.find(":") + 1:].split(","):
        p = p.strip().strip('"')
        try:
            out.append(int(p))
        except ValueError:
            out.append(None)
    return out


class ModemError(OSError):
    pass


class _Socket:
    # a TCP connection's asyncio streams over the modem
    def __init__(self, m):
        self.m = m

    async def readexactly(self, n):
        m = self.m
        while len(m.rx) < n:
            if m.closed:
                raise OSError(ECONNRESET)
            m.rx_event.clear()
            await m.pull()
            if len(m.rx) < n and not m.closed:
                await m.rx_event.wait()
        b = bytes(m.rx[:n])
        m.rx = m.rx[n:]
        return b

    def write(self, b):
        self.m.tx += b

    async def drain(self):
        m = self.m
        if not m.tx:
            return
        b = bytes(m.tx)
        m.tx = bytearray()
        await m.send(b)

    def close(self):
        # frees the socket for the next request: the close goes on the
        # loop, and the next open() waits for it
        m = self.m
        m.rx = bytearray()
        if not m.closed and m.closing is None:
            m.closing = asyncio.create_task(m.hang_up())


class Modem:
    # what both modem classes share: the reader task, commands, bring-up
    def __init__(self, uart, apn="", user="", pwd="", pin=None, pwrkey=None, reset=None, ticks_ms=None):
        self.uart = uart
        self.apn = apn
        self.user = user
        self.pwd = pwd
        self.pin = pin
        self.pwrkey = pwrkey
        self.reset = reset
        self.ticks_ms = ticks_ms or _ticks_ms
        self.r = self.w = None
        self.buf = bytearray()
        self.lines = None  # the answer of the command in progress
        self.final = None  # the final lines it waits for
        self.done = asyncio.Event()
        self.prompt = asyncio.Event()
        self.watch = None  # (prefixes, event, box): a URC a caller waits for
        self.lock = asyncio.Lock()
        self.rx = bytearray()
        self.rx_event = asyncio.Event()
        self.tx = bytearray()
        self.closed = True
        self.closing = None  # the hang-up task of a closed socket
        self.waiting = False  # manual receive: the modem holds data for us
        self.want_prompt = False
        self.ready = False
        self.state = "off"
        self.csq = 99
        self.attach_ms = None
        self.connect_ms = None
        self.bearer_apn = None  # the APN of the context that is up
        self.reboots = 0
        self.garbage = 0
        self.task = None
        self.loop = None
        self.reg_ms = REG_MS  # how long start() waits for the registration

    # --- the reader ---------------------------------------------------------------

    def _begin(self):
        # the reader task on the running loop: at first use, and again when
        # the loop that ran it ended (a host tool that runs one loop per step);
        # CPython binds events and locks to their loop
        t = self.task
        loop = _running_loop()
        if t is None or t.done() or loop is not self.loop:
            self.loop = loop
            self.r, self.w = streams(self.uart)
            self.done = asyncio.Event()
            self.prompt = asyncio.Event()
            self.rx_event = asyncio.Event()
            self.lock = asyncio.Lock()
            self.closing = None  # a hang-up of the ended loop: open() hangs up again
            self.task = asyncio.create_task(self._pump())

    async def _pump(self):
        while True:
            b = await self.r.read(256)
            if not b:
                await _sleep(10)
                continue
            self.buf += b
            self._parse()

    def _parse(self):
        buf = self.buf
        while buf:
            if buf[0] in b"\r\n":
                buf = buf[1:]
                continue
            if buf[0] == 62 and self.want_prompt and not self.prompt.is_set():  # ">"
                buf = buf[2:] if buf[1:2] == b" " else buf[1:]
                self.prompt.set()
                continue
            n = self._raw(buf)
            if n is None:
                break  # inline data not complete yet
            if n:
                buf = buf[n:]
                continue
            i = buf.find(b"\n")
            if i < 0:
                if len(buf) > LINE_MAX:
                    self.garbage += 1
                    buf = bytearray()
                break
            line = bytes(buf[:i]).strip()
            buf = buf[i + 1:]
            try:
                s = line.decode()
            except UnicodeError:
                self.garbage += 1
                continue
            k = self._header(s)
            if k:
                if len(buf) < k:
                    buf = bytearray(line + b"\n") + buf  # the data is not all here yet
                    break
                self._data(bytes(buf[:k]))
                buf = buf[k:]
            self._line(s)
        self.buf = buf

    def _raw(self, buf):
        # inline data at the head of buf (+IPD,<n>:<data>): handed to the
        # socket; -> the bytes taken (header and data), 0: none here, None:
        # wait for more
        return 0

    def _header(self, s):
        # a line followed by raw bytes (a read command's answer): how many
        return 0

    def _data(self, b):
        if len(self.rx) + len(b) > RX_MAX:
            b = b[: RX_MAX - len(self.rx)]
        self.rx += b
        self.rx_event.set()

    def _line(self, s):
        if s.startswith("AT"):
            return  # echo
        w = self.watch
        if w is not None:
            for p in w[0]:
                if s.startswith(p):
                    w[2].append(s)
                    w[1].set()
                    if self.lines is not None and s in self.final:
                        self.lines.append(s)  # also the command's final line
                        self.done.set()
                    return
        if self._urc(s):
            return
        if s in REBOOT:
            self._rebooted()
            return
        if self.lines is None:
            return  # nobody asked
        self.lines.append(s)
        for f in self.final:
            if s.startswith(f):
                self.done.set()
                return

    def _rebooted(self):
        # the modem started again: its bearer and socket are gone
        if self.ready or not self.closed:
            self.reboots += 1
        self.ready = False
        self.state = "off"
        self._lost()

    def _lost(self):
        self.closed = True
        self.rx_event.set()

    def _urc(self, s):
        return False

    # --- commands -------------------------------------------------------------------

    async def cmd(self, c, ms=CMD_MS, final=FINAL, data=None):
        # -> the answer's lines (the final one last); ModemError on ERROR or
        # no final line within ms. data: written after the "> " prompt
        self._begin()
        async with self.lock:
            self.lines = []
            self.final = final
            self.done.clear()
            self.prompt.clear()
            self.want_prompt = data is not None
            try:
                self.w.write(c.encode() + b"\r")
                await self.w.drain()
                if data is not None:
                    await _wait(self.prompt.wait(), ms)
                    self.w.write(data)
                    await self.w.drain()
                await _wait(self.done.wait(), ms)
            except Timeout:
                raise ModemError(ETIMEDOUT, c)
            finally:
                lines = self.lines
                self.lines = None
                self.final = None
                self.want_prompt = False
        last = lines[-1]
        if last.startswith("ERROR") or last.startswith("+CME") or last.startswith("+CMS"):
            raise ModemError(EIO, last)
        return lines

    async def expect(self, prefixes, ms, c=None, final=FINAL, data=None):
        # a URC starting with one of prefixes, within ms (after command c,
        # when given, and its data) -> the line
        ev = asyncio.Event()
        box = []
        self.watch = (prefixes, ev, box)
        try:
            if c is not None:
                await self.cmd(c, ms, final, data)
            if not box:
                await _wait(ev.wait(), ms)
            return box[0]
        except Timeout:
            raise ModemError(ETIMEDOUT, prefixes[0])
        finally:
            self.watch = None

    async def query(self, c, prefix, ms=CMD_MS):
        # the line of the answer starting with prefix, or None
        for s in await self.cmd(c, ms):
            if s.startswith(prefix):
                return s
        return None

    # --- bring-up ---------------------------------------------------------------------

    def _fail(self, state, why):
        self.state = state
        self.ready = False
        raise ModemError(EIO, why)

    async def start(self):
        self._begin()
        self.ready = False
        t0 = self.ticks_ms()
        for _ in range(10):  # autobaud: AT until OK
            try:
                await self.cmd("AT", 300)
                break
            except ModemError:
                pass
        else:
            self._fail("dead", "no answer")
        await self.cmd("ATE0")
        await self.cmd("AT+CMEE=2")
        try:
            sim = await self.query("AT+CPIN?", "+CPIN:", 5000)
        except ModemError as e:
            self._fail("no_sim", str(e))
        if sim is None or "READY" not in sim:
            if sim is not None and "SIM PIN" in sim and self.pin:
                await self.cmd('AT+CPIN="%s"' % self.pin, 5000)
            else:
                self._fail("pin" if sim and "PIN" in sim else "no_sim", sim or "no SIM")
        self.state = "attaching"
        if not await self._registered(self.reg_ms):
            self._fail("no_network", "not registered")
        if not await self._signal():
            self._fail("weak", "CSQ %d" % self.csq)
        await self._bearer()
        self.attach_ms = ticks_diff(self.ticks_ms(), t0)
        self.ready = True
        self.state = "up"

    async def _registered(self, ms):
        # CREG (circuit) or CGREG/CEREG (packet): 1 home, 5 roaming
        t0 = self.ticks_ms()
        while True:
            for c in self.REG:
                s = await self.query(c + "?", c[2:] + ":")
                if s is not None:
                    v = _ints(s)
                    if len(v) > 1 and v[1] in (1, 5):
                        return True
            if ticks_diff(self.ticks_ms(), t0) >= ms:
                return False
            await _sleep(1000)

    async def _signal(self):
        s = await self.query("AT+CSQ", "+CSQ:")
        self.csq = _ints(s)[0] if s else 99
        return self.csq is not None and CSQ_MIN <= self.csq < 99

    async def check(self):
        # the health probe: registration, signal and the bearer
        try:
            ok = await self._registered(0) and await self._signal() and await self._bearer_up()
        except ModemError:
            ok = False
        if not ok and self.ready:
            self.ready = False
            self.state = "down"
            self._lost()
        return ok

    async def recover(self):
        # a wedged modem: the power key (or the reset line) cycles it
        self.ready = False
        self.state = "off"
        self._lost()
        p = self.pwrkey or self.reset
        if p is None:
            try:
                await self.cmd(self.RESTART, 5000)
            except ModemError:
                pass
        else:
            p.value(0)
            await _sleep(self.PULSE_MS)
            p.value(1)
        await _sleep(self.BOOT_MS)

    # --- the socket ------------------------------------------------------------------

    async def open(self, host, port, timeout_ms):
        if not self.ready:
            raise OSError(ECONNREFUSED)
        if self.closing is not None:
            if not self.closing.done():
                await self.closing
            self.closing = None
        if not self.closed:
            await self.hang_up()
        self.rx = bytearray()
        self.tx = bytearray()
        t0 = self.ticks_ms()
        await self._connect(host, port, timeout_ms)
        self.connect_ms = ticks_diff(self.ticks_ms(), t0)
        self.closed = False
        s = _Socket(self)
        return s, s

    async def pull(self):
        # manual receive: fetch what the modem holds (SIM7600); push modems: nothing
        pass


class Sim800(Modem):
    # SIM800 (2G): CSTT/CIICR bearer, CIPSTART, CIPSEND=<n>, data pushed as +IPD,<n>:
    REG = ("AT+CREG", "AT+CGREG")
    RESTART = "AT+CFUN=1,1"
    PULSE_MS = 1200
    BOOT_MS = 3000

    def _raw(self, buf):
        if not buf.startswith(b"+IPD,"):
            return 0
        i = buf.find(b":")
        if i < 0:
            return None if len(buf) < 16 else 0
        try:
            n = int(bytes(buf[5:i]))
        except ValueError:
            return 0
        if len(buf) < i + 1 + n:
            return None
        self._data(bytes(buf[i + 1: i + 1 + n]))
        return i + 1 + n

    def _urc(self, s):
        if s == "CLOSED" or s.endswith(", CLOSED"):
            self._lost()
            return True
        if s.startswith("+PDP: DEACT"):
            self.ready = False
            self.state = "down"
            self._lost()
            return True
        if s.startswith("UNDER-VOLTAGE") or s.startswith("OVER-VOLTAGE"):
            return True
        return False

    async def _bearer(self):
        st = await self._status()
        if self.bearer_apn == self.apn and st in ("IP STATUS", "IP PROCESSING", "CONNECT OK", "TCP CLOSED",
                                                  "TCP CONNECTING"):
            return  # the context is up already, on this APN
        await self.cmd("AT+CIPSHUT", 65000, ("SHUT OK", "ERROR"))
        await self.cmd("AT+CIPMUX=0")
        await self.cmd("AT+CIPHEAD=1")  # incoming data as +IPD,<n>:
        if not await self._attached():
            self._fail("no_network", "not attached")
        await self.cmd('AT+CSTT="%s","%s","%s"' % (self.apn, self.user, self.pwd))
        await self.cmd("AT+CIICR", 85000)
        await self.cmd("AT+CIFSR;E0", 5000)
        self.bearer_apn = self.apn

    async def _attached(self):
        s = await self.query("AT+CGATT?", "+CGATT:", 10000)
        if s is not None and _ints(s)[0] == 1:
            return True
        await self.cmd("AT+CGATT=1", 75000)
        return True

    async def _status(self):
        # the state line comes after the OK
        s = await self.expect(("STATE:",), CMD_MS, "AT+CIPSTATUS")
        return s[6:].strip()

    async def _bearer_up(self):
        return await self._status() not in ("", "IP INITIAL", "PDP DEACT", "IP START", "IP CONFIG")

    async def _connect(self, host, port, ms):
        try:
            s = await self.expect(("CONNECT OK", "CONNECT FAIL", "ALREADY CONNECT", "STATE:"), ms,
                                  'AT+CIPSTART="TCP","%s",%d' % (host, port), FINAL + ("ALREADY CONNECT",))
        except ModemError as e:
            if e.args[0] == ETIMEDOUT:
                asyncio.create_task(self.hang_up())  # a CIPSTART left running blocks the next
            raise
        if s != "CONNECT OK":
            if s == "ALREADY CONNECT":
                await self.hang_up()  # a connection left over: the next attempt is clean
            raise OSError(ECONNREFUSED)

    async def send(self, b):
        lines = await self.cmd("AT+CIPSEND=%d" % len(b), 10000, ("SEND OK", "SEND FAIL", "ERROR", "+CME ERROR"), b)
        if lines[-1] != "SEND OK":
            self._lost()
            raise OSError(ECONNRESET)

    async def hang_up(self):
        self._lost()
        try:
            await self.cmd("AT+CIPCLOSE=1", 5000, ("CLOSE OK", "ERROR"))
        except ModemError:
            pass

    async def position(self):
        # SIMCom's network location (bearer 1 of SAPBR): +CLBS: 0,<lon>,<lat>,<m>
        try:
            await self.cmd('AT+SAPBR=3,1,"APN","%s"' % self.apn)
            await self.cmd("AT+SAPBR=1,1", 30000)
        except ModemError:
            pass  # already open, or refused: CLBS tells
        try:
            s = await self.query("AT+CLBS=1,1", "+CLBS:", 30000)
        except ModemError:
            return None
        return _fix(s, "cell")


class Sim7600(Modem):
    # SIM7600 / A7670 (LTE): CGDCONT + NETOPEN, CIPOPEN, CIPSEND=0,<n>,
    # manual receive with CIPRXGET
    REG = ("AT+CREG", "AT+CGREG", "AT+CEREG")
    RESTART = "AT+CRESET"
    PULSE_MS = 500
    BOOT_MS = 15000

    def _header(self, s):
        if s.startswith("+CIPRXGET: 2,"):
            v = _ints(s)
            return v[2] if len(v) > 2 and v[2] else 0
        return 0

    def _urc(self, s):
        if s.startswith("+CIPRXGET: 1"):
            self.waiting = True
            self.rx_event.set()
            return True
        if s.startswith("+IPCLOSE:") or s.startswith("+CIPCLOSE: 0,"):
            self._lost()
            return True
        if s.startswith("+CIPEVENT:") or s.startswith("+NETCLOSE:"):
            self.ready = False
            self.state = "down"
            self._lost()
            return True
        return False

    async def _bearer(self):
        if await self._bearer_up():
            if self.bearer_apn == self.apn:
                return
            await self.expect(("+NETCLOSE:",), 10000, "AT+NETCLOSE")  # another APN was set
        await self.cmd('AT+CGDCONT=1,"IP","%s"' % self.apn)
        if self.user:
            await self.cmd('AT+CGAUTH=1,1,"%s","%s"' % (self.pwd, self.user))
        await self.cmd("AT+CIPMODE=0")
        await self.cmd("AT+CIPRXGET=1")
        s = await self.expect(("+NETOPEN:",), 75000, "AT+NETOPEN")
        if _ints(s)[0] != 0:
            self._fail("no_network", s)
        self.bearer_apn = self.apn

    async def _bearer_up(self):
        s = await self.query("AT+NETOPEN?", "+NETOPEN:")
        return s is not None and _ints(s)[0] == 1

    async def _connect(self, host, port, ms):
        self.waiting = False
        try:
            s = await self.expect(("+CIPOPEN: 0,",), ms, 'AT+CIPOPEN=0,"TCP","%s",%d' % (host, port))
        except ModemError as e:
            if e.args[0] == ETIMEDOUT:
                asyncio.create_task(self.hang_up())
            raise
        if _ints(s)[1] != 0:
            raise OSError(ECONNREFUSED)

    async def send(self, b):
        s = await self.expect(("+CIPSEND: 0,",), 10000, "AT+CIPSEND=0,%d" % len(b), FINAL, b)
        v = _ints(s)
        if len(v) < 3 or v[2] != len(b):
            self._lost()
            raise OSError(ECONNRESET)

    async def pull(self):
        while self.waiting and not self.closed and len(self.rx) < RX_MAX:
            lines = await self.cmd("AT+CIPRXGET=2,0,%d" % min(1024, RX_MAX - len(self.rx)), 5000)
            v = [_ints(s) for s in lines if s.startswith("+CIPRXGET: 2,")]
            if not v or len(v[0]) < 4 or not v[0][3]:
                self.waiting = False

    async def hang_up(self):
        self._lost()
        try:
            await self.expect(("+CIPCLOSE: 0,",), 5000, "AT+CIPCLOSE=0")
        except ModemError:
            pass

    async def position(self):
        # the GNSS fix when the module has one: +CGNSSINFO / +CGPSINFO
        # (ddmm.mmmmmm,N/S,dddmm.mmmmmm,E/W,...); else the network's (+CLBS)
        try:
            s = await self.query("AT+CGPSINFO", "+CGPSINFO:", 5000)
        except ModemError:
            s = None
        p = _gps(s)
        if p is not None:
            return p
        try:
            s = await self.query("AT+CLBS=1", "+CLBS:", 30000)
        except ModemError:
            return None
        return _fix(s, "cell")


def _fix(s, source):
    # "+CLBS: 0,<longitude>,<latitude>,<accuracy>": longitude first
    if s is None:
        return None
    p = s[s.find(":") + 1:].split(",")
    try:
        if int(p[0]) != 0:
            return None
        return (_micro(p[2]), _micro(p[1]), source)
    except (ValueError, IndexError):
        return None


def _micro(d):
    # "76.945465" -> 76945465 (no float: exact)
    d = d.strip()
    neg = d.startswith("-")
    if neg:
        d = d[1:]
    w, _, f = d.partition(".")
    v = int(w) * 1000000 + int((f + "000000")[:6])
    return -v if neg else v


def _gps(s):
    # "+CGPSINFO: 4314.123456,N,07656.789012,E,..." -> millionths of a degree
    if s is None:
        return None
    p = s[s.find(":") + 1:].split(",")
    if len(p) < 4 or not p[0].strip():
        return None
    try:
        lat = _dm(p[0].strip(), 2)
        lon = _dm(p[2].strip(), 3)
    except ValueError:
        return None
    return (-lat if p[1] == "S" else lat, -lon if p[3] == "W" else lon, "gnss")


def _dm(v, k):
    # degrees and minutes "dddmm.mmmmmm" -> millionths of a degree
    return int(v[:k]) * 1000000 + _micro(v[k:]) // 60
