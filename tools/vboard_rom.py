# The virtual board's "ROM": runs under the MicroPython unix port with its
# stdin/stdout on the board's serial line (tools/vboard.py carries them to a
# pseudo-terminal). It does what MicroPython's pyexec does on a chip:
#   - boot: boot.py, then main.py (not after a soft reset in the raw REPL)
#   - friendly REPL (>>> with echo), raw REPL (Ctrl-A), raw paste
#     (Ctrl-E A Ctrl-A, flow control by windows), Ctrl-B back, Ctrl-D soft
#     reset, Ctrl-C clears the line (a running program gets SIGINT from
#     the bridge, which is told on stderr: "B" busy, "I" idle)
#   - the board's flash filesystem: a host folder mounted at "/"
#   - raw partitions: NOR emulators in files, as esp32.Partition(label)
#   - machine.reset(): a hard reset (the bridge starts a new interpreter)
#
#   micropython vboard_rom.py REPO ROOT VAR hard|soft|raw LABEL=BLOCKS ...
# Exit status to the bridge: SOFT (soft reset, raw REPL kept), SOFT_FRIENDLY,
# HARD (machine.reset()).

import os
import sys

SOFT = 10
SOFT_FRIENDLY = 11
HARD = 12
WINDOW = 256  # raw-paste flow-control window (bytes), as MicroPython's stdin buffer
BANNER = "MicroPython %s on vboard; unix port as ESP32\r\nType \"help()\" for more information.\r\n"

ROM = __file__
_in = sys.stdin.buffer
_out = sys.stdout


def out(s):
    if isinstance(s, str):
        _out.write(s)
    else:
        _out.buffer.write(s)


def state(c):
    sys.stderr.write(c)


class _Reset(Exception):
    pass


def getc():
    while True:
        try:
            b = _in.read(1)
        except KeyboardInterrupt:
            return 3  # a Ctrl-C that reached us as SIGINT while idle
        if not b:
            raise SystemExit(0)  # the bridge went away
        return b[0]


class Partition:
    # esp32.Partition over the NOR emulator (boards/host/flash.py)
    BOOT = 0
    RUNNING = 1
    TYPE_APP = 0
    TYPE_DATA = 1
    table = {}

    def __init__(self, label):
        if label not in Partition.table:
            raise ValueError("no partition " + str(label))
        self.label = label
        self.dev = Partition.table[label]

    @staticmethod
    def find(type=1, subtype=255, label=None):
        return [Partition(n) for n in sorted(Partition.table) if label is None or n == label]

    def info(self):
        return (0x40, 0, 0, self.dev.size, self.label, False)

    def readblocks(self, block, buf, offset=0):
        return self.dev.readblocks(block, buf, offset)

    def writeblocks(self, block, buf, offset=None):
        if offset is None:
            return self.dev.writeblocks(block, buf)
        return self.dev.writeblocks(block, buf, offset)

    def ioctl(self, op, arg):
        return self.dev.ioctl(op, arg)


class Module:
    pass


def _machine():
    import machine as real

    m = Module()
    for n in dir(real):
        if not n.startswith("_"):
            setattr(m, n, getattr(real, n))

    def reset():
        raise _Reset()

    def unique_id():
        return b"vboard"

    m.reset = reset
    m.soft_reset = lambda: sys.exit(0)
    m.unique_id = unique_id
    return m


def _os(root):
    # os as on the board: rename (a VfsPosix with a root hands rename both
    # paths in one buffer, the unix port's bug: ENOENT) goes through a
    # VfsPosix without a root, on the host's paths; ilistdir gives sizes
    host = os.VfsPosix()
    m = Module()
    for n in dir(os):
        if not n.startswith("_"):
            setattr(m, n, getattr(os, n))

    def on_host(p):
        if not p.startswith("/"):
            cwd = os.getcwd()
            p = (cwd if cwd.endswith("/") else cwd + "/") + p
        return root + p

    def rename(old, new):
        host.rename(on_host(old), on_host(new))

    def ilistdir(path="."):
        # with each file's size, as littlefs on the chip gives it (mpremote fs ls)
        for e in os.ilistdir(path):
            yield (e[0], e[1], e[2], os.stat(path + "/" + e[0])[6] if e[1] & 0x8000 else 0)

    m.rename = rename
    m.ilistdir = ilistdir
    return m


def setup(repo, root, var, parts):
    # everything from the host is loaded before the board's flash takes "/"
    sys.path.insert(0, repo)
    from boards.host import device_key
    from boards.host.flash import FileFlash

    for spec in parts:
        label, blocks = spec.split("=")
        Partition.table[label] = FileFlash(var + "/" + label + ".img", int(blocks))
    esp32 = Module()
    esp32.Partition = Partition
    sys.modules["esp32"] = esp32
    sys.modules["machine"] = _machine()
    board = Module()
    board.key = device_key(var)  # on a chip: the eFuse key block
    sys.modules["vboard"] = board
    sys.modules["os"] = _os(root)
    os.umount("/")
    os.mount(os.VfsPosix(root), "/")
    os.chdir("/")
    sys.path[:] = ["", ".frozen", "/lib"]
    for n in ("boards", "boards.host", "boards.host.flash", "boards.sim", "boards.sim.nor_flash"):
        sys.modules.pop(n, None)  # the board's own packages come from its flash


def report(e):
    # the traceback as the chip prints it: without this file's frame
    import io

    buf = io.StringIO()
    sys.print_exception(e, buf)
    out("\n".join(line for line in buf.getvalue().split("\n") if ROM not in line))


def run(code, g, raw):
    # compile and run as the REPL does; raw: output framed by Ctrl-D
    try:
        state("B")
        exec(code, g)
    except _Reset:
        raise
    except SystemExit:
        if raw:
            out("\x04\x04")
        raise _Soft()
    except BaseException as e:  # noqa: B036 - the REPL reports every error, also KeyboardInterrupt
        if raw:
            out("\x04")
        report(e)
        if raw:
            out("\x04")
        state("I")
        return
    if raw:
        out("\x04\x04")
    state("I")


class _Soft(Exception):
    pass


class _Friendly(Exception):
    pass


class _Raw(Exception):
    pass


def run_file(name, g):
    try:
        os.stat(name)
    except OSError:
        return
    with open(name) as f:
        src = f.read()
    run(compile(src, name, "exec"), g, False)


def raw_paste():
    out("R\x01")
    out(bytes((WINDOW & 0xFF, WINDOW >> 8)))
    buf = bytearray()
    left = WINDOW
    while True:
        c = getc()
        if c == 4 or c == 3:
            out("\x04")
            if c == 3:
                return None
            return bytes(buf)
        buf.append(c)
        left -= 1
        if left == 0:
            out("\x01")
            left = WINDOW


def raw_repl(g):
    out("raw REPL; CTRL-B to exit\r\n")
    while True:
        out(">")
        line = bytearray()
        while True:
            c = getc()
            if c == 1:
                if bytes(line) == b"\x05A":
                    src = raw_paste()
                    if src is None:
                        out("\x04KeyboardInterrupt: \r\n\x04")
                    else:
                        _exec_raw(src, g)
                    break
                out("raw REPL; CTRL-B to exit\r\n>")
                line = bytearray()
            elif c == 2:
                out("\r\n")
                raise _Friendly()
            elif c == 3:
                line = bytearray()
            elif c == 4:
                out("OK")
                if not line:
                    out("\r\n")
                    raise _Soft()
                _exec_raw(bytes(line), g)
                break
            else:
                line.append(c)


def _exec_raw(src, g):
    try:
        code = compile(src, "<stdin>", "exec")
    except BaseException as e:  # noqa: B036
        out("\x04")
        report(e)
        out("\x04")
        return
    run(code, g, True)


def friendly_repl(g, version):
    out(BANNER % version)
    while True:
        out(">>> ")
        src = _line()
        if src is None:
            continue
        if src.rstrip().endswith(":"):
            while True:
                out("... ")
                more = _line()
                if not more:
                    break
                src += "\n" + more
        if src.strip():
            try:
                code = compile(src, "<stdin>", "single")
            except BaseException as e:  # noqa: B036
                report(e)
                continue
            run(code, g, False)


def _line():
    # one line with echo; None after Ctrl-C
    line = bytearray()
    while True:
        c = getc()
        if c == 1:
            out("\r\n")
            raise _Raw()
        if c == 2:
            out("\r\n")
            raise _Friendly()
        if c == 3:
            out("\r\n")
            return None
        if c == 4 and not line:
            out("\r\n")
            raise _Soft()
        if c == 13 or c == 10:
            out("\r\n")
            return bytes(line).decode()
        if c == 8 or c == 127:
            if line:
                line = line[:-1]
                out("\x08 \x08")
        elif c >= 32:
            line.append(c)
            out(chr(c) if c < 128 else bytes((c,)))


def main(argv):
    repo, root, var, how = argv[1:5]
    setup(repo, root, var, argv[5:])
    version = ".".join(str(n) for n in sys.implementation.version[:3])
    g = {"__name__": "__main__"}
    mode = how
    try:
        run_file("boot.py", g)
        if mode != "raw":
            run_file("main.py", g)
        state("I")
        while True:
            try:
                if mode == "raw":
                    raw_repl(g)
                else:
                    friendly_repl(g, version)
            except _Raw:
                mode = "raw"
            except _Friendly:
                mode = "friendly"
    except _Soft:
        out("MPY: soft reboot\r\n")
        sys.exit(SOFT if mode == "raw" else SOFT_FRIENDLY)
    except _Reset:
        sys.exit(HARD)


main(sys.argv)
