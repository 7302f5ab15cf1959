"""Run the core tests on a board through mpremote: the same verdict as CI, on the chip.

    python tools/board_tests.py --port PORT [FILTER ...]

compiles the core tests (tests/core), the runner (tests/run_core.py) and what they
import (firmware/, drivers/, boards/ but the PC's) for the ESP32 (in a temporary folder),
copies them to
``/kkmtest`` on the board (a file the board already holds unchanged is skipped), has the
board hash each (other files there are removed), runs
the runner there and reports each test by name as the board prints it. The driver
tests that run against the PC's chip doubles (they import tests/core/hwkit.py) are left
out and named: on a chip, ``machine`` is the real one. The exit status
is 1 when a test fails or the run does not finish. FILTER as for tests/run_core.py:
only files or tests whose name contains it (a board's heap may not hold every module
of the suite at once: run it in parts).
"""

import argparse
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploy  # noqa: E402

ROOT = deploy.ROOT
HOME = "kkmtest"  # the folder on the board
SUMMARY = "core ("  # the runner's last line: "core (<runtime>): N passed, M failed"


PC_ONLY = ("host", "vboard")  # boards/ folders of the PC's doubles, not for a chip
SIGNER = ("__init__.py", "fleet_sign.py")  # tools/: the fleet tests sign their packages with the PC's signer
DOUBLES = "hwkit"  # a test importing it drives the PC's chip doubles


def on_doubles(path):
    with open(path) as f:
        return DOUBLES in f.read()


def left_out(core):
    # the core tests that need the PC's chip doubles
    return [f[:-3] for f in sorted(os.listdir(core))
            if f.startswith("test_") and f.endswith(".py") and on_doubles(os.path.join(core, f))]


def sources(core):
    # (source, path on the board of the .py) of the runner, the tests (folder core) and what they import
    out = [(os.path.join(ROOT, "tests", "run_core.py"), HOME + "/tests/run_core.py")]
    skip = set(t + ".py" for t in left_out(core)) | {DOUBLES + ".py"}
    out += [(os.path.join(core, f), HOME + "/tests/core/" + f) for f in sorted(os.listdir(core))
            if f.endswith(".py") and f not in skip]
    out += [(os.path.join(ROOT, "tools", f), HOME + "/tools/" + f) for f in SIGNER]
    for folder in ("firmware", "drivers", "boards"):
        top = os.path.join(ROOT, folder)
        for base, dirs, files in os.walk(top):
            rel = os.path.relpath(base, top)
            dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not (rel == "." and d in PC_ONLY))
            for f in sorted(files):
                if f.endswith(".py"):
                    out.append((os.path.join(base, f), os.path.normpath(os.path.join(HOME, folder, rel, f))))
    return out


def build(core, tree):
    deploy.compile_into(sources(core), tree)
    return tree


def run(port, filters):
    # the runner on the board; each line as it comes, then the verdict
    paths = ["/%s/%s" % (HOME, p) for p in ("tests", "tests/core", "firmware", "")]
    setup = "import sys\nsys.path[:0] = %r\n" % paths
    code = setup + "import run_core\nrun_core.main(%r)\n" % (list(filters),)
    proc = subprocess.Popen([deploy.tool("mpremote"), "connect", port, "exec", code],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    passed, failed, summary = [], [], None
    for line in proc.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        if line.startswith("PASS "):
            passed.append(line.split()[1])
        elif line.startswith("FAIL ") or line.startswith("ERROR importing"):
            failed.append(line.split()[-1])
        elif line.startswith(SUMMARY):
            summary = line.strip()
    rc = proc.wait()
    return passed, failed, summary, rc


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", required=True, help="serial port of the board, e.g. /dev/ttyUSB0")
    ap.add_argument("--core", default=os.path.join(ROOT, "tests", "core"), help="folder of the tests (default tests/core)")
    ap.add_argument("filters", nargs="*", help="only tests whose file or name contains one of these")
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kkm-test-board-") as tree:
        return run_on_board(a.port, build(a.core, tree), a.filters, a.core)


def run_on_board(port, tree, filters, core):
    n, size = deploy.size_report(tree)
    print("core tests for the board: %d files, %d bytes" % (n, size))
    print("left out (they drive the PC's chip doubles): " + (" ".join(left_out(core)) or "none"))
    copied, skipped = deploy.copy(port, tree)
    print("copied %d files (%d already up to date)" % (copied - skipped, skipped))
    home = os.path.join(tree, HOME)
    want = {p: deploy.digest(os.path.join(home, p)) for p in deploy.files_below(home)}
    checked, stale = deploy.verify(port, HOME, want)
    print("verified on the board: %d files; removed %d old ones" % (checked, len(stale)))
    passed, failed, summary, rc = run(port, filters)
    if summary is None or rc != 0:
        print("the run on the board did not finish")
        return 1
    print("board: %d passed, %d failed" % (len(passed), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
