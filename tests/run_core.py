# Runs the core tests (tests/core/test_*.py) without pytest, so the very
# same files run under the MicroPython unix port as under CPython.
#
#   micropython tests/run_core.py            every core test
#   micropython tests/run_core.py journal    only files or tests whose name contains "journal"
#   micropython tests/run_core.py --dir D    the test_*.py files of folder D instead
# On a board (make test-board) the test files may be compiled (test_*.mpy).
#
# A test is a module-level function named test_*; it passes when it returns.
# The last line is "core (<runtime>): N passed, M failed".

import gc
import os
import sys

_here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
ROOT = _here + "/.."
CORE = _here + "/core"
for p in (CORE, ROOT + "/firmware", ROOT):
    if p not in sys.path:
        sys.path.insert(0, p)

from compat import print_exception  # noqa: E402


def _selected(name, filters):
    if not filters:
        return True
    for f in filters:
        if f in name:
            return True
    return False


def main(args):
    global CORE
    if args[:1] == ["--dir"]:
        CORE = args[1]
        sys.path.insert(0, CORE)
        args = args[2:]
    filters = args
    runtime = sys.implementation.name
    passed = 0
    failed = []
    files = sorted(f for f in os.listdir(CORE) if f.startswith("test_") and f.endswith((".py", ".mpy")))
    for fname in files:
        modname = fname.rsplit(".", 1)[0]
        try:
            mod = __import__(modname)
        except Exception as e:
            print("ERROR importing", modname)
            print_exception(e)
            failed.append(modname)
            continue
        for name in sorted(n for n in dir(mod) if n.startswith("test_")):
            full = modname + "::" + name
            if not (_selected(modname, filters) or _selected(name, filters)):
                continue
            fn = getattr(mod, name)
            if not callable(fn):
                continue
            gc.collect()  # each test starts from a tidy heap (big flash images)
            try:
                fn()
            except Exception as e:
                print("FAIL", full)
                print_exception(e)
                failed.append(full)
            else:
                print("PASS", full)
                passed += 1
    if failed:
        print("failed tests:")
        for f in failed:
            print("  " + f)
    print("core (%s): %d passed, %d failed" % (runtime, passed, len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
