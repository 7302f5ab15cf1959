"""`make sim`: the register app on the PC board against the OFD simulator.

    python tools/sim.py                      # interactive, MicroPython unix port, state in var/sim
    python tools/sim.py --cpython            # the same app under CPython
    python tools/sim.py --display 128x64     # the graphic display (21x8 characters)
    python tools/sim.py --display hd44780    # the device's display driver on its chip double (also ssd1306, sh1106)
    python tools/sim.py --ofd 127.0.0.1:7777 # a simulator started elsewhere (make ofd)
    python tools/sim.py --modem sim800       # a GSM channel too: the SIM800 driver on a simulated modem
    python tools/sim.py --fleet 127.0.0.1:1883  # telemetry to a service centre's MQTT broker (make fleet)

Starts the OFD simulator in this process (unless --ofd), provisions a
factory-fresh register as the service centre does (the OFD's registration,
fiscalisation, the first users), then runs firmware/app.py on boards/host in
a child process on this terminal, in cbreak mode. The register's state (flash
images, device key, paper transcript) lives in --var and survives restarts.
The app's printer driver talks ESC/POS to an interpreter in this process
over named pipes (VAR/printer.in, .out, .ctl): the paper is VAR/paper.txt,
the last document VAR/paper.png.
Scanned codes also come from the named pipe VAR/scanner:
`echo 4870001000011 > var/sim/scanner`.
"""

import argparse
import os
import signal
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
for _p in (os.path.join(ROOT, "firmware"), ROOT):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import boards.host as host  # noqa: E402

DEFAULT_KKM_ID = 203539
DEFAULT_TOKEN = 1000
RNM = "010100012345"
BIN = "990511400009"
FACTORY_NO = "SIM0000001"
GEO = (43238949, 76945465, "manual")  # the shop on Abai avenue, Almaty: millionths of a degree, entered
SERVICE_USER = (9, "9999")
ADMIN_USER = (2, "2222")
CASHIER_USER = (1, "1234")
HEAP = "4M"  # MicroPython heap of the app (tests/host/test_memory_budget.py holds the device's budget)


class Paper:
    # the printer during provisioning: the transcript only
    def __init__(self, var):
        from boards.host.printer import TranscriptPrinter

        self.p = TranscriptPrinter(os.path.join(var, "paper.txt"))
        self.width = self.p.width

    def status(self):
        return "ok"

    def print(self, lines):
        self.p.print(lines)


def provision(var, kkm_id, token, check_url, lang="ru", catalogue="soft", factory_no=FACTORY_NO, rnm=RNM):
    """The service centre's step: a factory-fresh register is fiscalised for
    the simulated OFD with its first users; a fiscalised one gets the check
    page address of this run. -> what was done, for the terminal"""
    from boards.host.flash import FileFlash
    from journal import Accumulator
    from kkm import auth as A
    from kkm.clock import Clock
    from kkm.register import Register

    log = FileFlash(os.path.join(var, "journal.img"), host.LOG_BLOCKS)
    fm = FileFlash(os.path.join(var, "fiscal_memory.img"), host.FM_BLOCKS)
    try:
        r = Register(Accumulator(log, fm, host.device_key(var)), Paper(var), None, Clock())
        if r.settings.fiscalised:
            if r.settings.get("check_url") == check_url:
                return "register %s" % r.settings.get("kkm_id")
            # the simulator's web port changes between runs: the QR code must
            # open the running check page (a free setting)
            r.login(SERVICE_USER[0], SERVICE_USER[1], A.MODE_PROGRAMMING)
            r.change_settings({"check_url": check_url})
            r.logout()
            return "register %s, check page %s" % (r.settings.get("kkm_id"), check_url)
        r.set_user(SERVICE_USER[0], "Сервис", A.ROLE_SERVICE, SERVICE_USER[1])
        r.login(SERVICE_USER[0], SERVICE_USER[1], A.MODE_SERVICE)
        r.fiscalise_kkm({
            "factory_no": factory_no, "rnm": rnm, "kkm_id": str(kkm_id), "taxpayer": "ЖШС «Алма-Сауда»",
            "bin": BIN, "address": "Алматы қ., Абай даңғылы, 10", "geo_position": list(GEO),
            "ofd_hosts": [list(host.OFD)], "token": token,
            "ofd_name": "OFD simulator", "check_url": check_url, "lang": lang, "catalogue": catalogue,
        })
        r.login(SERVICE_USER[0], SERVICE_USER[1], A.MODE_PROGRAMMING)
        r.set_user(ADMIN_USER[0], "Әкімші", A.ROLE_ADMIN, ADMIN_USER[1])
        r.set_user(CASHIER_USER[0], "Кассир 1", A.ROLE_CASHIER, CASHIER_USER[1])
        r.logout()
        return "registered: KKM id %d, RNM %s; cashier %d/%s, admin %d/%s, service %d/%s" % (
            kkm_id, rnm, CASHIER_USER[0], CASHIER_USER[1], ADMIN_USER[0], ADMIN_USER[1], SERVICE_USER[0],
            SERVICE_USER[1])
    finally:
        log.close()
        fm.close()


def start_ofd(var, kkm_id, token, port=0, http_port=0):
    # the simulator in a thread of this process, the register known to it
    from tools.ofdsim.server import ServerThread
    from tools.ofdsim.testkit import register_sample

    sim = ServerThread(os.path.join(var, "ofd.sqlite"), port=port, http_port=http_port).start()

    def reg():
        store = sim.server.store
        if store.kkm(kkm_id) is None:
            register_sample(store, kkm_id, token, rnm=RNM, serial=FACTORY_NO, bin=BIN)
    sim.call(reg)
    return sim


def app_command(a, ofd):
    if a.cpython:
        run = [sys.executable]
    else:
        mpy = os.path.join(os.path.dirname(sys.executable), "micropython")
        run = [mpy if os.path.exists(mpy) else "micropython", "-X", "heapsize=" + a.heap]
    return run + [os.path.join(ROOT, "boards", "host", "main.py"), a.var, "--display", a.display,
                  "--ofd", "%s:%d" % ofd, "--scanner", os.path.join(a.var, "scanner"), "--lang", a.lang] + (
                  ["--fleet", a.fleet] if getattr(a, "fleet", None) else [])


def run_app(cmd):
    # the app on this terminal in cbreak mode (keys arrive one by one, not
    # echoed; Ctrl-C stops the app, not this launcher)
    fd = sys.stdin.fileno()
    saved = None
    if os.isatty(fd):
        import termios
        import tty

        saved = termios.tcgetattr(fd)
        tty.setcbreak(fd)
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return subprocess.call(cmd, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    finally:
        signal.signal(signal.SIGINT, old)
        if saved is not None:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--var", default=os.path.join(ROOT, "var", "sim"), help="state directory")
    ap.add_argument("--cpython", action="store_true", help="run the app under CPython, not MicroPython")
    ap.add_argument("--heap", default=HEAP, help="MicroPython heap size")
    ap.add_argument("--display", choices=sorted(host.SIZES), default="20x4")
    ap.add_argument("--lang", choices=("kk", "ru"), default="ru", help="receipt language at fiscalisation")
    ap.add_argument("--ofd", default=None, help="host:port of a running OFD simulator (default: start one)")
    ap.add_argument("--ofd-port", type=int, default=0, help="protocol port of the in-process OFD (0: any)")
    ap.add_argument("--http-port", type=int, default=0, help="web port of the in-process OFD (0: any)")
    ap.add_argument("--kkm-id", type=int, default=DEFAULT_KKM_ID)
    ap.add_argument("--token", type=int, default=DEFAULT_TOKEN, help="initial token (first start only)")
    ap.add_argument("--modem", choices=("sim800", "sim7600"), default=None,
                    help="a GSM channel too: this modem class on a simulated modem (tools/modemsim.py)")
    ap.add_argument("--rtt", type=int, default=600, help="the simulated modem's round trip, ms")
    ap.add_argument("--catalogue", choices=("strict", "soft"), default="soft",
                    help="goods without a National Catalogue element: refused or sold and said (first start)")
    ap.add_argument("--fleet", default=None, help="host:port of the service centre's MQTT broker (docs/fleet.md)")
    a = ap.parse_args(argv)
    a.var = os.path.abspath(a.var)
    os.makedirs(a.var, exist_ok=True)
    sim = None
    if a.ofd is None:
        sim = start_ofd(a.var, a.kkm_id, a.token, a.ofd_port, a.http_port)
        ofd = ("127.0.0.1", sim.port)
        web = "http://127.0.0.1:%d" % sim.http_port
    else:
        h, _, p = a.ofd.rpartition(":")
        ofd = (h or "127.0.0.1", int(p))
        web = "http://%s:8080" % ofd[0]
    try:
        info = "%s\nOFD simulator: protocol %s:%d, check page %s/check, admin %s/admin" % (
            (provision(a.var, a.kkm_id, a.token, web + "/check", a.lang, a.catalogue),) + ofd + (web, web))
        print(info)
        fifo = os.path.join(a.var, "scanner")
        if not os.path.exists(fifo):
            os.mkfifo(fifo)
        from tools.escpos_interp import Link

        printer = Link(a.var)  # the ESC/POS printer the app's driver talks to
        printer.start()
        cmd = app_command(a, ofd)
        if a.modem:
            from tools.modemsim import ModemSim

            modem = ModemSim(a.modem, ofd, rtt_ms=a.rtt, attach_ms=2000).start()
            cmd += ["--modem", "%s:%s" % (a.modem, modem.path)]
            print("GSM: a simulated %s at %d ms RTT on %s" % (a.modem, a.rtt, modem.path))
        sys.stdout.flush()
        try:
            return run_app(cmd + ["--info", info])
        finally:
            printer.stop()
    finally:
        if sim is not None:
            sim.stop()


if __name__ == "__main__":
    sys.exit(main())
