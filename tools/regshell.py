"""The register core driven by text commands on a PC: the register
(firmware/kkm), the fiscal data accumulator on file-backed NOR flash
emulators, a printer that renders receipts as text, and the OFD client over
TCP to the OFD simulator (started in-process unless ``--ofd host:port`` is
given). A harness for the OFD campaigns (tools/lost_answers.py) and the host
tests of the OFD scheduler; the register as a device app is `make sim`
(tools/sim.py).

    python tools/regshell.py --script demo.txt --print-file var/shell/paper.txt
    python tools/regshell.py --ofd 127.0.0.1:7777 --kkm-id 203539 --token 1000

Commands (one per line; ``#`` starts a comment):

    login <code> <password> [sales|z|prog|clock|service]
    logout
    sale <barcode|name> <price> [qty] [mark ...]
                                           add a line (opens a sale receipt); a GTIN/NTIN
                                           is looked up in the National Catalogue (the
                                           register's cache, else the OFD); a marked good
                                           needs its marking code(s)
    discount <amount>                      discount on the last line
    buyer <iin>                            buyer's IIN/BIN on the receipt
    pay cash|card|mobile <amount>          pay (cash may come in parts); the receipt is fiscalised when
                                           paid, a payment that does not fiscalise is taken off
    cancel                                 abandon the open receipt
    copy                                   a copy of the last document (also after a restart)
    return <sign>|<shift>/<no> [<line> <qty>]   return of a receipt found by the fiscal sign or autonomous
                                           number on its paper (or its QR text), or by shift and receipt
                                           number: all that is left of it, or qty of one line (1, 2, ...);
                                           refunded by the original's payment types
    deposit <amount> / withdraw <amount>   cash in / cash out
    x                                      X report: sent to the OFD, the OFD's X printed (the register's offline)
    z                                      close the shift (Z report)
    sync                                   send the offline queue now
    probe                                  COMMAND_SYSTEM to the OFD
    wait <seconds>                         idle that long (the scheduler ticks every second)
    skip <seconds>                         move the scheduler's clock on, then tick
    token <number>                         enter the OFD token (login ... prog first)
    aside [<seq>]                          set aside the queue's head the OFD refused (login ... service
                                           first; default: the refused document), print the service slip
    texts                                  the OFD's texts not shown yet (then marked as read)
    fault <kind> [key=value ...] | fault clear   faults of the in-process OFD
    status, help, quit

Amounts are tenge ("150", "150.50"); quantities are units ("2", "1.5").
Before every other command the OFD scheduler (firmware/ofd/sender.py) ticks, as
the device's idle loop does: the power-on connection test, the retries of the
offline queue every retry interval (the setting retry_s, or --retry; at least 60 s)
and the probes.
State (flash images with the OFD session in the journal, the in-process OFD's database) lives in --var.
"""

import argparse
import json
import asyncio
import os
import socket
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
for _p in (os.path.join(ROOT, "firmware"), ROOT):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from boards.host import device_key  # noqa: E402
from boards.sim.nor_flash import NorFlash  # noqa: E402
from journal import Accumulator  # noqa: E402
from kkm import auth as A  # noqa: E402
from kkm import catalog as K  # noqa: E402
from kkm import document as D  # noqa: E402
from kkm import layout  # noqa: E402
from kkm import locks as L  # noqa: E402
from kkm import money  # noqa: E402
from kkm import texts as T  # noqa: E402
from kkm.clock import Clock  # noqa: E402
from ofd.texts import SHOW  # noqa: E402
from kkm.register import Register  # noqa: E402
from net.tcp import TcpChannel  # noqa: E402
from ofd import client as cl  # noqa: E402
from ofd.port import OfdPort  # noqa: E402
from ofd.sender import MIN_INTERVAL, Sender  # noqa: E402
from ofd.session import Session  # noqa: E402

LOG_BLOCKS = 64  # 256 KB journal
FM_BLOCKS = 4  # fiscal memory (Z summaries)
VERSION = "0.1.0"

# the simulated shop's registration: the same as make sim's
from tools.sim import (ADMIN_USER, BIN, CASHIER_USER, DEFAULT_KKM_ID, DEFAULT_TOKEN, FACTORY_NO, GEO,  # noqa: E402
                       RNM, SERVICE_USER)

# the OFD address entered at set-up; the simulated network resolves it to
# the simulator of the current run (in-process or --ofd host:port)
SIM_OFD = ("ofd.sim", 7777)

# commands that do not tick the scheduler first: they talk to the OFD
# themselves, move its clock or only show
NO_TICK = ("sync", "probe", "wait", "skip", "status", "texts", "help", "quit", "exit")
SKIP_TICKS = 50  # ticks at most after a skip (each sends at most a batch)

TEXT_TYPES = ("OFD", "ORG", "POS", "KKM", "INFO")  # TicketAdTypeEnum (PROTOCOL.md section 9)

MODES = {"sales": A.MODE_SALES, "z": A.MODE_SHIFT_CLOSE, "prog": A.MODE_PROGRAMMING, "clock": A.MODE_CLOCK,
         "service": A.MODE_SERVICE}


class CommandError(Exception):
    pass


# ---------------------------------------------------------------- printer


class TermPrinter:
    """Renders layout lines as text (the QR line shows its URL)."""

    def __init__(self, out, path=None, width=layout.WIDE):
        self.out = out
        self.path = path
        self.width = width
        self.state = "ok"
        self.pages = []

    def status(self):
        return self.state

    def render(self, lines):
        w = self.width
        text = ["+" + "-" * w + "+"]
        for style, s in lines:
            if style & layout.QR:
                text.append("|" + "[QR] ".ljust(w) + "|")
                for k in range(0, len(s), w):
                    text.append("|" + s[k:k + w].ljust(w) + "|")
                continue
            text.append("|" + s.ljust(w) + "|")
        text.append("+" + "-" * w + "+")
        return "\n".join(text)

    def print(self, lines):
        if self.state != "ok":
            raise OSError(5, "printer")
        page = self.render(lines)
        self.pages.append(lines)
        self.out.write(page + "\n")
        if self.path:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(page + "\n\n")


# ---------------------------------------------------------------- the simulated register


def parse_amount(s):
    try:
        v = money.parse(s)
    except (ValueError, TypeError):
        v = None
    if v is None or v <= 0:
        raise CommandError("bad amount: %s" % s)
    return v


def parse_seconds(s):
    if not s.isdigit() or int(s) <= 0:
        raise CommandError("bad number of seconds: %s" % s)
    return int(s)


def parse_qty(s):
    s = s.replace(",", ".")
    whole, _, frac = s.partition(".")
    if not whole.isdigit() and whole != "" or (frac and not frac.isdigit()) or len(frac) > 3:
        raise CommandError("bad quantity: %s" % s)
    v = int(whole or "0") * 1000 + int((frac + "000")[:3])
    if v <= 0:
        raise CommandError("bad quantity: %s" % s)
    return v


class SimRegister:
    def __init__(self, var, out=sys.stdout, ofd=None, kkm_id=DEFAULT_KKM_ID, token=DEFAULT_TOKEN, print_file=None,
                 http_port=0, ofd_port=0, lang="ru", retry=None, clock=None, catalogue="soft", channel=None):
        # clock: the register's (kkm.clock); None: the real time. A test
        # gives a ManualClock: then only `skip` moves the scheduler's time
        # and a slow machine changes nothing it sees. catalogue: the rule set
        # up at first start for goods without a National Catalogue element
        # ("strict" or "soft"; the command line's default is the register's, strict).
        # channel: the OFD's channel (net); None: TCP to the simulator
        self.var = var
        self.out = out
        self.lang = lang
        self.kkm_id = kkm_id
        os.makedirs(var, exist_ok=True)
        self.sim = None
        if ofd is None:
            from tools.ofdsim.server import ServerThread

            self.sim = ServerThread(os.path.join(var, "ofd.sqlite"), port=ofd_port, http_port=http_port).start()
            self.ofd_addr = ("127.0.0.1", self.sim.port)
            self.check_url = "http://127.0.0.1:%d/check" % self.sim.http_port
            self._register_in_sim(kkm_id, token)
        else:
            host, _, port = ofd.rpartition(":")
            self.ofd_addr = (host or "127.0.0.1", int(port))
            self.check_url = "http://%s:8080/check" % (host or "127.0.0.1")
        self.log_path = os.path.join(var, "journal.img")
        self.fm_path = os.path.join(var, "fiscal_memory.img")
        self.log = NorFlash.load(self.log_path, LOG_BLOCKS)
        self.fm = NorFlash.load(self.fm_path, FM_BLOCKS)
        self.acc = Accumulator(self.log, self.fm, device_key(self.var))
        # the OFD session lives in the journal as on the device (R_SESSION
        # records, restored by port.bind); `token` only seeds a fresh register
        self.client = cl.OfdClient(Session(kkm_id, token), channel or TcpChannel(resolver=self._resolve), [SIM_OFD])
        self.port = OfdPort(self.client, self.acc, VERSION, "sim-register")
        self.printer = TermPrinter(out, print_file)
        # the National Catalogue cache in a file, as on the device's flash
        self.reg = Register(self.acc, self.printer, self.port, clock if clock is not None else Clock(),
                            catalog=K.Catalog(K.FileStore(os.path.join(var, "catalogue.bin"))))
        self.port.bind(self.reg)
        # the scheduler's clock: the register's plus the seconds skipped (the
        # documents keep their real dates); retry None: the register's
        # setting retry_s
        self.skipped = 0
        self.sync = Sender(self.reg, self.port, retry, now=lambda: self.reg.clock.now() + self.skipped)
        self.creds = None
        self._reported = None
        if not self.reg.settings.fiscalised:
            self._provision(kkm_id, token, catalogue)
        elif self.reg.settings.get("check_url") != self.check_url:
            self._update_check_url()
        self._save()

    # --- set-up -------------------------------------------------------------

    def _resolve(self, host, port):
        # the simulated network: the OFD name the register was set up with
        # leads to the simulator of this run, wherever it listens
        if (host, port) == SIM_OFD:
            return [(socket.AF_INET, socket.SOCK_STREAM, 0, "", self.ofd_addr)]
        return socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)

    def _register_in_sim(self, kkm_id, token):
        from tools.ofdsim.testkit import register_sample

        def reg():
            store = self.sim.server.store
            if store.kkm(kkm_id) is None:
                register_sample(store, kkm_id, token, rnm=RNM, serial=FACTORY_NO, bin=BIN)
        self.sim.call(reg)

    def _provision(self, kkm_id, token, catalogue):
        # the service engineer's first set-up of a factory-fresh register
        r = self.reg
        r.set_user(SERVICE_USER[0], "Сервис", A.ROLE_SERVICE, SERVICE_USER[1])
        r.login(SERVICE_USER[0], SERVICE_USER[1], A.MODE_SERVICE)
        r.fiscalise_kkm({
            "factory_no": FACTORY_NO, "rnm": RNM, "kkm_id": str(kkm_id), "taxpayer": "ЖШС «Алма-Сауда»",
            "bin": BIN, "address": "Алматы қ., Абай даңғылы, 10", "geo_position": list(GEO),
            "ofd_hosts": [list(SIM_OFD)], "token": token,
            "ofd_name": "OFD simulator", "check_url": self.check_url, "lang": self.lang,
            "catalogue": catalogue,
        })
        r.login(SERVICE_USER[0], SERVICE_USER[1], A.MODE_PROGRAMMING)
        r.set_user(ADMIN_USER[0], "Әкімші", A.ROLE_ADMIN, ADMIN_USER[1])
        r.set_user(CASHIER_USER[0], "Кассир 1", A.ROLE_CASHIER, CASHIER_USER[1])
        r.logout()
        self.say("registered: KKM id %d, RNM %s, cashier %d/%s, admin %d/%s" % (
            kkm_id, RNM, CASHIER_USER[0], CASHIER_USER[1], ADMIN_USER[0], ADMIN_USER[1]))

    def _update_check_url(self):
        # the in-process OFD's web port changes between runs: the QR code on
        # the receipt must open the running check page (a FREE setting)
        r = self.reg
        try:
            r.login(SERVICE_USER[0], SERVICE_USER[1], A.MODE_PROGRAMMING)
            r.change_settings({"check_url": self.check_url})
        except L.Refused as e:
            self.say("check page address not updated: %s" % explain(e, self.lang))
        finally:
            r.logout()

    def _save(self):
        self.log.save(self.log_path)
        self.fm.save(self.fm_path)

    def close(self):
        self._save()
        if self.sim is not None:
            self.sim.stop()

    def say(self, s):
        self.out.write(s + "\n")

    # --- helpers --------------------------------------------------------------

    def _draft(self):
        if self.reg.draft is None:
            self.reg.open_receipt(D.OP_SELL)
        return self.reg.draft

    def _report_ofd(self):
        out = self.port.last
        if out is None or out is self._reported:
            return  # no new exchange
        self._reported = out
        if out.status == cl.OK:
            return
        self.say("OFD: %s (%s%s), attempts %d, %d ms" % (
            out.status, out.reason, "" if out.code is None else ", code %d" % out.code, out.attempts,
            out.elapsed_ms))
        # result codes 15, 1 and 2 engage their locks in ofd.port (OFD_SUSPEND,
        # DATA_MISMATCH, INVALID_TOKEN); `status` shows them

    def _fiscal(self, iss):
        # the issued document through the sender: the OFD's sign within the
        # budget, else the autonomous sign
        return asyncio.run(self.sync.live(iss))

    def _done(self, res):
        self._report_ofd()
        if res.offline:
            what = "offline, autonomous fiscal sign %s" % res.fiscal_sign
        elif isinstance(res.doc, D.Receipt):
            what = "fiscal sign %s" % res.fiscal_sign
        else:
            what = "accepted by the OFD"
        self.say("document %d (journal %d): %s" % (res.number, res.seq, what))
        for n in self.reg.notices:
            if T.has(n):
                self.say("! " + T.text(n, self.lang))

    def _with_mode(self, mode, fn):
        # run fn logged in for `mode` with the remembered credentials
        cur = self.reg.auth.current
        if cur is not None and cur[1] == mode:
            return fn()
        if self.creds is None:
            raise CommandError("login first")
        code, pw = self.creds
        back = cur[1] if cur is not None else None
        self.reg.login(code, pw, mode)
        try:
            return fn()
        finally:
            if back is not None:
                self.reg.login(code, pw, back)

    # --- commands -------------------------------------------------------------

    def do(self, line):
        words = line.split("#", 1)[0].split()
        if not words:
            return True
        cmd, args = words[0].lower(), words[1:]
        fn = getattr(self, "cmd_" + cmd, None)
        if fn is None:
            raise CommandError("unknown command %s (try help)" % cmd)
        try:
            if cmd not in NO_TICK:
                self.tick()
            fn(*args)
        except TypeError as e:
            if "positional argument" in str(e):
                raise CommandError("wrong arguments for %s" % cmd)
            raise
        finally:
            self._save()
        return cmd not in ("quit", "exit")

    def cmd_help(self):
        self.say(__doc__.split("Commands", 1)[1].split("Amounts", 1)[0].strip("\n"))

    def cmd_login(self, code, password, mode="sales"):
        if mode not in MODES:
            raise CommandError("mode is one of %s" % ", ".join(sorted(MODES)))
        u = self.reg.login(int(code), password, MODES[mode])
        self.creds = (int(code), password)
        self.say("logged in: %s (%s)" % (u.name, mode))

    def cmd_logout(self):
        self.reg.logout()
        self.creds = None

    def cmd_sale(self, what, price, qty="1", *marks):
        q = parse_qty(qty)
        p = parse_amount(price)
        if what.isdigit():
            # the catalogue's names, codes, unit and marked flag: the cache
            # (kkm.catalog), else the OFD asked by the sender
            ln = asyncio.run(self.sync.catalogue_item(what)).line(p, q, marks=marks)
        else:
            ln = D.Line(what.replace("_", " "), p, q, D.UNIT_PIECE if q % 1000 == 0 else D.UNIT_KG, 1, 1,
                        marks=marks)
        opened = self.reg.draft is None
        r = self._draft()
        try:
            note = self.reg.add_line(ln)
        except D.DocumentError:
            if opened:
                self.reg.abandon()  # a receipt opened for a refused line only
            raise
        name = ln.name_kk if self.lang == "kk" and ln.name_kk else ln.name
        self.say("%s x %s = %s; total %s" % (name, money.qty_text(q, D.is_measured(ln.unit_code)), money.fmt(
            ln.gross()), money.fmt(r.total())))
        if note is not None:
            self.say("! " + T.text(note, self.lang))

    def cmd_discount(self, amount):
        r = self.reg.draft
        if r is None or not r.lines:
            raise CommandError("no line to discount")
        ln = r.lines[-1]
        ln.discount = parse_amount(amount)
        try:
            ln.check(len(r.lines) - 1)
        except D.DocumentError:
            ln.discount = 0
            raise
        self.say("total %s" % money.fmt(r.total()))

    def cmd_buyer(self, iin):
        r = self.reg.draft
        if r is None:
            raise CommandError("no open receipt")
        r.set_buyer(iin=iin)

    def cmd_pay(self, kind, amount):
        kinds = {"cash": D.PAY_CASH, "card": D.PAY_CARD, "mobile": D.PAY_MOBILE}
        if kind not in kinds:
            raise CommandError("pay cash|card|mobile <amount>")
        r = self.reg.draft
        if r is None or not r.lines:
            raise CommandError("no open receipt")
        extra = {}
        if kind == "card":
            extra = {"terminal": "SIM-POS", "auth_code": "000001", "rrn": "000000000001"}
        elif kind == "mobile":
            extra = {"qr_id": "SIM-QR"}
        iss = self.reg.pay(kinds[kind], parse_amount(amount), self.lang, **extra)
        if iss is None:
            self.say("due: %s" % money.fmt(r.total() - r.paid()))
            return
        res = self._fiscal(iss)
        if r.change():
            self.say("change: %s" % money.fmt(r.change()))
        self._done(res)

    def cmd_copy(self):
        self.reg.copy_last(self.lang)

    def cmd_cancel(self):
        self.reg.abandon()
        self.say("receipt abandoned")

    def cmd_return(self, what, line=None, qty=None):
        # the register finds the original in its journal by what the
        # buyer brings and bounds the return by what is left of it
        if (line is None) != (qty is None) or (line is not None and not line.isdigit()):
            raise CommandError("return <sign>|<shift>/<no> [<line> <qty>]")
        reg = self.reg
        shift, _, number = what.partition("/")
        if shift.isdigit() and number.isdigit():
            r = reg.open_return(int(shift), int(number))
        else:
            r = reg.open_return(what)  # a fiscal sign, an autonomous number, a QR code's text
        try:
            if line is None:
                reg.return_line()
            else:
                reg.return_line(int(line) - 1, parse_qty(qty))
            reg.refund()
            iss = reg.fiscalise(self.lang)
        except Exception:
            if reg.draft is r:
                reg.abandon()
            raise
        self._done(self._fiscal(iss))

    def cmd_deposit(self, amount):
        self._done(self._fiscal(self.reg.deposit(parse_amount(amount), self.lang)))

    def cmd_withdraw(self, amount):
        self._done(self._fiscal(self.reg.withdraw(parse_amount(amount), self.lang)))

    def cmd_x(self):
        # KZ-31.4: the register sends its X; the OFD's X is printed when it
        # answers with one, the register's own otherwise
        before = self.port.last
        zx = asyncio.run(self.sync.x_report(self.lang))
        if self.reg.x_source == "ofd":
            self.say("X report sent to the OFD; the OFD's X printed (OFD shift %s)" % zx["shift_number"])
            return
        if self.port.last is before:
            self.say("X report of the register printed; not sent: documents wait for the OFD")
        else:
            self._report_ofd()
            self.say("X report of the register printed (no X from the OFD)")

    def cmd_z(self):
        if self.acc.unacked_count():
            self.cmd_sync()
        zx = self._fiscal(self._with_mode(A.MODE_SHIFT_CLOSE, lambda: self.reg.close_shift(self.lang)))
        self.sync.retest()  # KZ-2: the connection test at the Z report too (the next tick)
        self._report_ofd()
        # KZ-31.5: online the OFD's Z is printed (and where the register's own differs)
        src = "the OFD's Z printed" if self.reg.z_source == "ofd" else "the register's Z printed"
        if zx.get("differs"):
            src += "; the register's own differs in %d figures" % len(zx["differs"])
        self.say("shift %d closed; %s%s" % (zx["shift_number"], src, "" if not self.acc.unacked_count()
                                            else "; %d documents wait for the OFD" % self.acc.unacked_count()))

    # --- the OFD scheduler --------------------------------------------------------

    def tick(self):
        """One tick of the scheduler; says what it did. -> what or None"""
        waiting = self.acc.unacked_count()
        what = asyncio.run(self.sync.step())
        if what is None:
            return None
        self._report_ofd()
        st = self.sync.status()
        if what == "test":
            head = "connection test: %s" % self.sync.test
        elif what == "catalogue":
            head = "National Catalogue version check: version %d" % self.reg.catalog.version
        elif what == "replay":
            head = "retry: sent %d of %d waiting documents" % (waiting - st["queue"], waiting)
        else:
            head = "probe: %s" % ("answered" if st["code"] is not None else "no answer")
        self.say("[ofd] %s; %s" % (head, self.sync_line(st)))
        return what

    def sync_line(self, st=None):
        st = st or self.sync.status()
        parts = ["mode %s" % st["mode"], "queue %d" % st["queue"]]
        if st["next"] is not None:
            parts.append("next attempt in %d s" % st["next"])
        if st["stuck"] is not None:
            parts.append("journal %d refused (code %s): sync or aside after analysis" % (st["stuck"], st["code"]))
        if st["lock_in"] is not None:
            h, m = divmod(st["lock_in"] // 60, 60)
            parts.append("72 h lock in %d:%02d" % (h, m))
        return ", ".join(parts)

    def cmd_wait(self, seconds):
        # idle in real time, ticking about once a second like the device loop
        end = time.monotonic() + parse_seconds(seconds)
        while True:
            self.tick()
            left = end - time.monotonic()
            if left <= 0:
                break
            time.sleep(min(1.0, left))
        self.say("[ofd] %s" % self.sync_line())

    def cmd_skip(self, seconds):
        # the scheduler's clock moves on at once (the register's does not)
        self.skipped += parse_seconds(seconds)
        for _ in range(SKIP_TICKS):
            if self.tick() is None:
                break
        self.say("[ofd] %s" % self.sync_line())

    def cmd_sync(self):
        self.sync.kick()  # an operator's "send now": also a refused document
        self.client.refresh()  # a due retry of a failed name lookup, before (not inside) the exchanges
        before = self.acc.unacked_count()
        n = asyncio.run(self.sync.replay())
        self._report_ofd()
        self.say("sent %d of %d waiting documents" % (n, before))

    def cmd_probe(self):
        out = asyncio.run(self.sync.probe())
        if out is None:
            if L.INVALID_TOKEN in self.reg.active_locks():
                self.say("not sent: the OFD refused the token (enter it: token <number>)")
            else:
                self.say("not sent: a document waits for its answer (sync first)")
            return
        self.say("OFD: %s (%s)" % (out.status, out.reason))

    def cmd_aside(self, seq=None):
        # PROTOCOL.md section 13: the service engineer takes the document the
        # OFD refused out of the queue after analysis (Register.set_aside:
        # journalled, counted, never deleted); the queue goes on at once
        ref = self.port.refusal
        if seq is None:
            if ref is None:
                raise CommandError("no document refused by the OFD (see status)")
            seq = str(ref[0])
        if not seq.isdigit():
            raise CommandError("aside [<journal number>]")
        lines = self.sync.set_aside(int(seq), self.lang)
        self.say("journal %s set aside (refused by the OFD, code %d)%s; %d documents wait" % (
            seq, ref[1], "" if lines else ", slip not printed", self.acc.unacked_count()))

    def cmd_token(self, value):
        # KZ-41: the administrator or service engineer enters the token at
        # any time; it becomes the OFD session's token (journalled first)
        if not value.isdigit():
            raise CommandError("token is a number")
        self.reg.change_settings({"token": int(value)})
        self.say("token entered")

    def cmd_fault(self, kind, *kv):
        if self.sim is None:
            raise CommandError("faults need the in-process OFD")
        if kind == "clear":
            self.sim.call(self.sim.server.clear_faults)
            self.say("faults cleared")
            return
        spec = {"kind": kind}
        for item in kv:
            k, _, v = item.partition("=")
            spec[k] = v
        f = self.sim.call(self.sim.server.add_fault, spec)
        self.say("fault %d: %s" % (f.id, kind))

    def cmd_status(self):
        locks = self.reg.active_locks()
        self.say("shift open: %s, documents %d, waiting for OFD: %d, token %d, reqnum %d" % (
            self.reg.shift_open, self.reg.doc_no, self.acc.unacked_count(), self.client.session.token, self.client.session.reqnum))
        for c in locks:
            # the cashier's message; the server block adds the OFD's reason
            self.say("lock %d: %s" % (c, self.reg.lock_message(c, self.lang).replace("\n", " / ")))
        ref = self.port.refusal
        if ref is not None:
            # the OFD's last refusal of a document (ofd.port; `aside` sets the head aside)
            self.say("OFD refused journal %d: code %d%s" % (ref[0], ref[1], ": " + ref[2] if ref[2] else ""))
        self.say("OFD: %s, connection test %s" % (self.sync_line(), self.sync.test or "not yet"))

    def cmd_texts(self):
        # KZ-17: the display's list of texts from the OFD not read yet; listed
        # once, then acknowledged (ofd.texts SHOW)
        t = self.reg.ofd_texts
        todo = [] if t is None else t.pending(SHOW)
        if not todo:
            self.say("no new texts from the OFD")
            return
        for k, v, text in todo:
            self.say("text %s (type %d, version %d): %s" % (TEXT_TYPES[k], k, v, text.replace("\n", " / ")))
            t.done(k, v, SHOW)

    def cmd_quit(self):
        pass

    cmd_exit = cmd_quit


def explain(e, lang):
    if isinstance(e, (L.Refused, D.DocumentError)) and e.args and isinstance(e.args[0], int) and T.has(e.args[0]):
        return "%s (%s)" % (L.message(e.args[0], lang, e.args[1] if len(e.args) > 1 else None), e.args[0])
    return " ".join(str(a) for a in e.args) or type(e).__name__


def run(sr, lines, echo=False):
    """Run command lines; returns the number of failed commands."""
    failed = 0
    for line in lines:
        line = line.rstrip("\n")
        if echo and line.strip() and not line.strip().startswith("#"):
            sr.say("> " + line)
        try:
            if not sr.do(line):
                break
        except (CommandError, L.Refused, D.DocumentError, ValueError) as e:
            failed += 1
            sr.say("error: " + explain(e, sr.lang))
    return failed


def main(argv=None, out=None):
    ap = argparse.ArgumentParser(description="Simulated KKM register against a simulated OFD")
    ap.add_argument("--var", default=os.path.join(ROOT, "var", "shell"), help="state directory")
    ap.add_argument("--ofd", default=None, help="host:port of a running OFD simulator (default: start one)")
    ap.add_argument("--kkm-id", type=int, default=DEFAULT_KKM_ID)
    ap.add_argument("--token", type=int, default=DEFAULT_TOKEN, help="initial token (first start only)")
    ap.add_argument("--script", default=None, help="file of commands to run instead of stdin")
    ap.add_argument("--print-file", default=None, help="also append printed documents to this file")
    ap.add_argument("--http-port", type=int, default=0, help="web port of the in-process OFD (check page)")
    ap.add_argument("--ofd-port", type=int, default=0, help="protocol port of the in-process OFD")
    ap.add_argument("--lang", choices=("kk", "ru"), default="ru")
    ap.add_argument("--catalogue", choices=K.RULES, default=K.STRICT,
                    help="goods without a National Catalogue element: refused (strict) or sold and said (soft); "
                         "set up at the first start")
    ap.add_argument("--retry", type=int, default=None,
                    help="retry interval of the OFD scheduler, seconds (at least %d; default: the register's "
                         "setting retry_s)" % MIN_INTERVAL)
    a = ap.parse_args(argv)
    if a.retry is not None and a.retry < MIN_INTERVAL:
        ap.error("--retry: at least %d seconds (PROTOCOL.md section 13)" % MIN_INTERVAL)
    out = out or sys.stdout
    sr = SimRegister(a.var, out, a.ofd, a.kkm_id, a.token, a.print_file, a.http_port, a.ofd_port, a.lang, a.retry,
                     catalogue=a.catalogue)
    try:
        if sr.sim is not None:
            sr.say("OFD simulator: protocol 127.0.0.1:%d, check page %s" % (sr.ofd_addr[1], sr.check_url))
        if a.script:
            with open(a.script, encoding="utf-8") as f:
                failed = run(sr, f.readlines(), echo=True)
        else:
            interactive = sys.stdin.isatty()
            if interactive:
                sr.say("type help for the commands")
            failed = 0
            while True:
                if interactive:
                    out.write("kkm> ")
                    out.flush()
                line = sys.stdin.readline()
                if not line:
                    break
                failed += run(sr, [line], echo=not interactive)
                if line.split() and line.split()[0] in ("quit", "exit"):
                    break
    finally:
        sr.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
