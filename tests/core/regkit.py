# Helpers for the register tests: fake printer and OFD ports, a register on
# NOR flash emulators, a fiscalised set-up and a "reboot".
from boards.sim.nor_flash import NorFlash
from journal import Accumulator
from kkm import auth as A
from kkm import document as D
from kkm import locks as L
from kkm.clock import ManualClock
from kkm.register import Accepted, Register
from ofd.client import OK, RETRY, Outcome
from ofd.sender import Sender

try:
    import asyncio
except ImportError:  # pragma: no cover - older MicroPython
    import uasyncio as asyncio

T0 = 1767254400  # 2026-01-01 08:00 UTC
KEY = b"register-test-key-0123456789abcd"

REG = {
    "factory_no": "KKM000000123",
    "rnm": "010101234567",
    "kkm_id": "39051",
    "taxpayer": "ТОО Тест",
    "bin": "990511400009",
    "address": "Астана, Мәңгілік Ел 8",
    "ofd_hosts": [["ofd.example.kz", 7777]],
    "token": 12345678,
    "ofd_name": "OFD",
    "check_url": "https://check.example.kz",
    "catalogue": "soft",  # lines by free name; tests/core/test_catalog.py covers "strict"
}


class FakePrinter:
    def __init__(self):
        self.state = "ok"
        self.printed = []
        self.fail_next = False

    def status(self):
        return self.state

    def print(self, lines):
        if self.fail_next or self.state != "ok":
            self.fail_next = False
            raise OSError(5)
        self.printed.append(lines)


class FakeOfd:
    # a fake OFD port (what ofd.sender uses of ofd.port): online, every
    # document is answered at once with a fiscal sign; offline, no answer
    def __init__(self):
        self.online = True
        self.sent = []  # (kind, seq)
        self.n = 0
        self.raise_next = False
        self.refusal = None
        self.last = None
        self.channel = "wifi"  # the channel named in each ACK (KZ-18)

    def bind(self, reg):
        pass

    def budget_ms(self):
        return 5000

    async def send(self, kind, seq, payload, live=False):
        if self.raise_next:
            self.raise_next = False
            raise OSError(110)
        if not self.online:
            out = Outcome(RETRY, "timeout")
        else:
            self.n += 1
            self.sent.append((kind, seq))
            out = Outcome(OK, "ok", 0)
            out.sign = "77%08d" % self.n
        self.last = out
        return out

    def accepted(self, out, kind, seq, payload):
        return Accepted(out.sign, channel=self.channel) if out is not None and out.status == OK else None

    async def probe(self, get_reg_info=True):
        return None

    async def report_x(self, zx):
        return None

    def server_x(self, out):
        return None

    def owed(self):
        return False

    def no_answer(self, t):
        pass


class SyncRegister(Register):
    # the register as the tests drive it: every document issued goes
    # through the sender (ofd.sender, asyncio) and is settled at once
    # (issue -> exchange -> settle): the same behaviour as before the split
    sender = None

    def desk(self, iss):
        return asyncio.run(self.sender.live(iss))

    def fiscalise(self, lang=None):
        return self.desk(Register.fiscalise(self, lang))

    def pay(self, *args, **kw):
        iss = Register.pay(self, *args, **kw)
        return None if iss is None else self.desk(iss)

    def deposit(self, amount, lang=None):
        return self.desk(Register.deposit(self, amount, lang))

    def withdraw(self, amount, lang=None):
        return self.desk(Register.withdraw(self, amount, lang))

    def close_shift(self, lang=None):
        return self.desk(Register.close_shift(self, lang))

    def x_report(self, lang=None):
        return asyncio.run(self.sender.x_report(lang))

    def replay(self, limit=100):
        return asyncio.run(self.sender.replay(limit))

    def set_aside(self, seq, *args):
        # the tests' set_aside(seq, lang) is the sender's, which calls the
        # register's set_aside(seq, code, text, lang)
        if len(args) > 1:
            return Register.set_aside(self, seq, *args)
        return self.sender.set_aside(seq, *args)


class Bench:
    # devices + ports + clock survive a "reboot"; the register is rebuilt.
    # make_ofd(acc) -> an OFD port built anew at every boot (its RAM is
    # lost with the power), bound to the register like on the device
    def __init__(self, log_blocks=24, fm_blocks=2, make_ofd=None):
        self.log = NorFlash(log_blocks)
        self.fm = NorFlash(fm_blocks)
        self.printer = FakePrinter()
        self.ofd = FakeOfd()
        self.make_ofd = make_ofd
        self.port = None
        self.clock = ManualClock(T0)
        self.reg = None

    def boot(self):
        self.log.disarm()
        self.fm.disarm()
        acc = Accumulator(self.log, self.fm, KEY)
        ofd = self.ofd
        if self.make_ofd is not None:
            ofd = self.port = self.make_ofd(acc)
        self.reg = SyncRegister(acc, self.printer, ofd, self.clock)
        ofd.bind(self.reg)
        self.reg.sender = Sender(self.reg, ofd)
        return self.reg


def fiscalised_bench(**kw):
    b = Bench(**kw)
    r = b.boot()
    r.set_user(9, "Service", A.ROLE_SERVICE, "9999")
    r.login(9, "9999", A.MODE_SERVICE)
    r.fiscalise_kkm(REG)
    # the first admin and cashier are added by the service engineer's session
    r.login(9, "9999", A.MODE_PROGRAMMING)
    r.set_user(2, "Админ", A.ROLE_ADMIN, "2222")
    r.set_user(1, "Айгүл", A.ROLE_CASHIER, "1111")
    r.logout()
    r.login(1, "1111", A.MODE_SALES)
    return b


def line(name="Нан", price=25000, qty=1000, unit="796", section=1, tax=1, **kw):
    return D.Line(name, price, qty, unit, section, tax, **kw)


def sell(reg, lines=None, cash=None, card=0, op=D.OP_SELL, parent=None):
    r = reg.open_receipt(op)
    for ln in lines or [line()]:
        r.add_line(ln)
    if parent is not None:
        r.set_parent(parent)
    total = r.total()
    if card:
        r.add_payment(D.Payment(D.PAY_CARD, card, None, "T1", "123456", "123456789012"))
    rest = total - card
    if rest:
        r.add_payment(D.Payment(D.PAY_CASH, rest, cash if cash is not None else rest))
    return reg.fiscalise()


def refused(fn, *args):
    # the args of the refusal (Refused, Locked or DocumentError) fn(*args) must raise
    try:
        fn(*args)
    except L.Refused as e:
        return e.args
    except D.DocumentError as e:
        return e.args
    raise AssertionError("not refused")
