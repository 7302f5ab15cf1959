# pytest runs core tests (tests/core) and host tests (tests/host) on CPython.
# Core modules are imported the way the device imports them: firmware/ is on
# the path, so `import compat`, `import journal`, `import kkm.money`.
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
for p in (os.path.join(ROOT, "tests", "core"), os.path.join(ROOT, "firmware"), ROOT):
    if p not in sys.path:
        sys.path.insert(0, p)
