"""`make fleet`: a service centre's fleet on one PC (docs/fleet.md).

    python -m tools.fleetwatch.run [--registers 3] [--mqtt 1883] [--http 8090] [--var var/fleet] [--cpython]

Starts the MQTT broker (mosquitto), the fleet dashboard, the OFD simulator
and several host-board registers (boards/host under the MicroPython unix
port, each provisioned as tools/sim.py does, with a factory number of its
own), each publishing its telemetry to the broker. The registers run on
pseudo-terminals of this process (their screens go to VAR/kkmN/screen.log);
at the prompt:

    paper N       take the paper out of register N (again: put it back)
    offline N H   cut register N from the OFD, sell a loaf there (it waits in the queue) and
                  move its clock H hours on: the 72 h lock comes near (H=70) or engages (H=73)
    online N      the OFD answers register N again and its clock comes back
    refresh       ask every register for its status now
    update URL V  announce version V at URL to every register (its updater takes it)
    quit
"""

import argparse
import json
import os
import pty
import subprocess
import sys
import threading
import time
import tty
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
for _p in (os.path.join(ROOT, "firmware"), ROOT):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from tools import sim  # noqa: E402
from tools.sim_register import Sim  # noqa: E402
from tools.fleetwatch.broker import Broker, wait_port  # noqa: E402
from tools.localport import free_port  # noqa: E402

FIRST_KKM_ID = 310001
BREAD = "4870001000011"  # in the simulator's catalogue: the register asks only its price
STEP_S = 0.5  # between the keys of one step: the screen follows


def factory_no(i):
    return "FLEET%05d" % i


def rnm(i):
    return "0101000%05d" % i


class RegisterProc:
    # one host-board register on a pseudo-terminal; its screen to a log
    def __init__(self, var, ofd, broker, cpython=False, heap=sim.HEAP):
        self.var = var
        run = [sys.executable] if cpython else [_micropython(), "-X", "heapsize=" + heap]
        cmd = run + [os.path.join(ROOT, "boards", "host", "main.py"), var, "--ofd", "%s:%d" % ofd,
                     "--fleet", "%s:%d" % broker]
        m, s = pty.openpty()
        tty.setcbreak(s)  # keys one by one, as tools/sim.py gives them
        self.proc = subprocess.Popen(cmd, stdin=s, stdout=s, stderr=s, close_fds=True, start_new_session=True,
                                     cwd=ROOT)
        os.close(s)
        self.fd = m
        self.log = open(os.path.join(var, "screen.log"), "ab")
        self.logged_in = False
        self.screen = b""  # what the register's terminal showed
        self.skew(0)
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        while True:
            try:
                b = os.read(self.fd, 4096)
            except OSError:
                return
            if not b:
                return
            self.log.write(b)
            self.log.flush()
            self.screen += b

    def keys(self, text):
        os.write(self.fd, text.encode())

    def type(self, chars):
        self.keys(chars)
        time.sleep(0.06 if chars == "\x1b" else 0.01)  # a lone ESC is told by the pause after it

    press = Sim.press  # key names, or numbers typed digit by digit

    def shows(self, text, since, timeout=10.0):
        # wait until the screen shows text after the byte offset since
        end = time.monotonic() + timeout
        while text.encode() not in self.screen[since:]:
            if time.monotonic() > end:
                raise RuntimeError("register %s: %r did not show" % (self.var, text))
            time.sleep(0.05)

    def sell(self, cut):
        # the cashier logs in (once) and rings up a loaf (its price asked of
        # the OFD's catalogue); cut() runs before the payment, so the receipt
        # is fiscalised offline and waits in the queue
        if not self.logged_in:
            at = len(self.screen)
            self.press("1", "ENT", "1234", "ENT")
            self.shows("Готов", at)
            self.logged_in = True
        at = len(self.screen)
        self.type("s" + BREAD + "\r")
        self.shows("Цена:", at)
        at = len(self.screen)
        self.press("180", "ENT")
        self.shows("180.00", at)
        cut()
        at = len(self.screen)
        self.press("PAY", "CASH")
        self.shows("Автон", at, 30)

    def skew(self, seconds):
        with open(os.path.join(self.var, "clock_skew"), "w") as f:
            f.write(str(seconds))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        try:
            os.close(self.fd)
        except OSError:
            pass
        self.log.close()


def _micropython():
    mpy = os.path.join(os.path.dirname(sys.executable), "micropython")
    return mpy if os.path.exists(mpy) else "micropython"


def start_dashboard(broker_port, http_port, latest=None):
    cmd = [sys.executable, "-m", "tools.fleetwatch.dashboard", "--broker", "127.0.0.1:%d" % broker_port,
           "--http", str(http_port)] + (["--latest", latest] if latest else [])
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    line = p.stdout.readline().decode()  # "fleet dashboard on http://127.0.0.1:PORT/"
    if "dashboard on" not in line:
        p.kill()
        raise RuntimeError("the dashboard did not start: " + line)
    threading.Thread(target=p.stdout.read, daemon=True).start()  # its later output is not needed
    return p, line.split(" on ", 1)[1].strip()


class Fleet:
    """Broker, dashboard, OFD simulator and n registers (also for the tests)."""

    def __init__(self, var, n=3, mqtt_port=0, http_port=0, cpython=False, latest=None):
        self.var = os.path.abspath(var)
        os.makedirs(self.var, exist_ok=True)
        self.n = n
        self.mqtt_port = mqtt_port or free_port()
        self.http_port = http_port
        self.cpython = cpython
        self.latest = latest
        self.broker = None
        self.ofd = None
        self.dash = None
        self.url = None
        self.registers = []
        self.faults = {}  # register -> the OFD simulator's fault id

    def start(self):
        self.broker = Broker(os.path.join(self.var, "broker"), self.mqtt_port, persistence=True).start()
        ids = [FIRST_KKM_ID + i for i in range(self.n)]
        self.ofd = sim.start_ofd(self.var, ids[0], sim.DEFAULT_TOKEN)
        self.ofd.call(self._register_all, ids)
        ofd = ("127.0.0.1", self.ofd.port)
        web = "http://127.0.0.1:%d" % self.ofd.http_port
        self.dash, self.url = start_dashboard(self.broker.port, self.http_port, self.latest)
        for i, kkm_id in enumerate(ids, 1):
            var = os.path.join(self.var, "kkm%d" % i)
            os.makedirs(var, exist_ok=True)
            sim.provision(var, kkm_id, sim.DEFAULT_TOKEN, web + "/check", factory_no=factory_no(i), rnm=rnm(i))
            self.registers.append(RegisterProc(var, ofd, ("127.0.0.1", self.broker.port), self.cpython))
        return self

    def _register_all(self, ids):
        from tools.ofdsim.testkit import register_sample

        store = self.ofd.server.store
        for i, kkm_id in enumerate(ids, 1):
            if store.kkm(kkm_id) is None:
                register_sample(store, kkm_id, sim.DEFAULT_TOKEN, rnm=rnm(i), serial=factory_no(i), bin=sim.BIN)

    def offline(self, i, hours):
        # register i (from 1) loses the OFD, sells, and its clock runs hours ahead
        r = self.registers[i - 1]
        kkm_id = FIRST_KKM_ID + i - 1

        def cut():
            self.faults[i] = self.ofd.call(self.ofd.server.add_fault, {"kind": "refuse", "kkm_id": kkm_id}).id

        r.sell(cut)
        r.skew(int(hours * 3600))

    def online(self, i):
        fid = self.faults.pop(i, None)
        if fid is not None:
            self.ofd.call(self.ofd.server.faults.remove, fid)
        self.registers[i - 1].skew(0)

    def command(self, register, body):
        body = dict(body, register=register)
        req = urllib.request.Request(self.url + "api/cmd", json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def fleet_json(self):
        with urllib.request.urlopen(self.url + "api/fleet", timeout=10) as r:
            return json.loads(r.read())

    def stop(self):
        for r in self.registers:
            r.stop()
        if self.dash is not None and self.dash.poll() is None:
            self.dash.terminate()
            self.dash.wait(5)
        if self.ofd is not None:
            self.ofd.stop()
        if self.broker is not None:
            self.broker.stop()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--var", default=os.path.join(ROOT, "var", "fleet"))
    ap.add_argument("--registers", type=int, default=3)
    ap.add_argument("--mqtt", type=int, default=1883, help="broker port")
    ap.add_argument("--http", type=int, default=8090, help="dashboard port")
    ap.add_argument("--cpython", action="store_true", help="the registers under CPython, not MicroPython")
    ap.add_argument("--latest", help="the firmware version the fleet should run (older ones are flagged)")
    a = ap.parse_args(argv)
    if not wait_port(a.mqtt, up=False, timeout=0.5):
        sys.exit("port %d is taken (another broker?): --mqtt PORT" % a.mqtt)
    f = Fleet(a.var, a.registers, a.mqtt, a.http, a.cpython, a.latest)
    try:
        f.start()
        print("broker 127.0.0.1:%d, dashboard %s, OFD simulator 127.0.0.1:%d (check page http://127.0.0.1:%d/)"
              % (f.broker.port, f.url, f.ofd.port, f.ofd.http_port))
        print("registers %s; screens in %s/kkmN/screen.log" % (", ".join(factory_no(i + 1) for i in range(f.n)),
                                                            f.var))
        print(__doc__.split("at the prompt:\n\n")[1])
        while True:
            try:
                line = input("fleet> ").split()
            except EOFError:
                break
            if not line:
                continue
            if line[0] == "quit":
                break
            n = int(line[1]) if len(line) > 1 and line[1].isdigit() and 1 <= int(line[1]) <= f.n else None
            if line[0] == "paper" and n:
                f.registers[n - 1].keys("P")
            elif line[0] == "offline" and n and len(line) == 3:
                f.offline(n, float(line[2]))
            elif line[0] == "online" and n:
                f.online(n)
            elif line[0] == "refresh":
                print(f.command("*", {"cmd": "refresh"}))
            elif line[0] == "update" and len(line) == 3:
                print(f.command("*", {"cmd": "update", "url": line[1], "version": line[2]}))
            else:
                print("paper N | offline N HOURS | online N | refresh | update URL VERSION | quit")
    except KeyboardInterrupt:
        pass
    finally:
        f.stop()


if __name__ == "__main__":
    sys.exit(main())
