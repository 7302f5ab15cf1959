"""The dual-runtime gates really catch MicroPython-only breakage."""

import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RUNNER = os.path.join(ROOT, "tests", "run_core.py")
MICROPYTHON = shutil.which("micropython")

needs_micropython = pytest.mark.skipif(MICROPYTHON is None, reason="micropython not installed")

# Passes on CPython, fails on MicroPython: str.ljust does not exist there,
# and dict iteration order is not insertion order.
PORTABILITY_TRAP = '''
def test_pads_with_ljust():
    assert "ab".ljust(4) == "ab  "

def test_relies_on_dict_order():
    d = {}
    d["b"] = 1
    d["c"] = 2
    d["a"] = 3
    assert list(d) == ["b", "c", "a"]

def test_portable():
    assert sorted({"b": 1, "a": 2}) == ["a", "b"]
'''


def run(interpreter, folder):
    return subprocess.run([interpreter, RUNNER, "--dir", str(folder)],
                          capture_output=True, text=True, timeout=60)


@needs_micropython
def test_micropython_run_fails_where_cpython_passes(tmp_path):
    (tmp_path / "test_trap.py").write_text(PORTABILITY_TRAP)
    cpy = run(sys.executable, tmp_path)
    assert cpy.returncode == 0, cpy.stdout
    assert "core (cpython): 3 passed, 0 failed" in cpy.stdout
    mpy = run(MICROPYTHON, tmp_path)
    assert mpy.returncode == 1
    assert "FAIL test_trap::test_pads_with_ljust" in mpy.stdout
    assert "FAIL test_trap::test_relies_on_dict_order" in mpy.stdout
    assert "PASS test_trap::test_portable" in mpy.stdout
    assert "AttributeError" in mpy.stdout  # the traceback is shown
    assert mpy.stdout.strip().endswith("core (micropython): 1 passed, 2 failed")


@needs_micropython
def test_import_error_in_a_core_file_is_a_failure(tmp_path):
    (tmp_path / "test_broken.py").write_text("import dataclasses\n\ndef test_x():\n    pass\n")
    mpy = run(MICROPYTHON, tmp_path)
    assert mpy.returncode == 1
    assert "ERROR importing test_broken" in mpy.stdout


def make_tree(tmp_path, source):
    fw = tmp_path / "firmware"
    fw.mkdir()
    (fw / "mod.py").write_text(source)
    return tmp_path


@pytest.mark.skipif(shutil.which("mpy-cross") is None, reason="mpy-cross not installed")
@pytest.mark.parametrize("source, expect", [
    ("def f(x):\n    match x:\n        case 1:\n            return 2\n", "mpy-cross"),
    ("def f(a, /, b):\n    return a\n", "mpy-cross"),
    ("import dataclasses\n", "module missing on MicroPython"),
    ("def f(s):\n    return s.ljust(3)\n", "str method missing"),
    ("def f(s):\n    return s.encode('cp866')\n", "codec names are ignored"),
    # MICROPYTHON.md 3.14 rules added with the pitfalls of 3.3-3.8
    ("import traceback\n", "module missing on MicroPython"),
    ("def f(d):\n    return '{0[k]}'.format(d)\n", "no index or attribute fields"),
    ("def f(o):\n    return '{0.name} x'.format(o)\n", "no index or attribute fields"),
    ("def f(n):\n    return b'%d'.format(n)\n", "bytes.format exists only on MicroPython"),
    ("def f(b):\n    return b.decode(errors='ignore')\n", "builtin methods take no keyword arguments"),
    ("def f(x):\n    print(x, flush=True)\n", "builtin functions take no such keyword"),
    ("def f(a, b):\n    return list(zip(a, b, strict=True))\n", "builtin functions take no such keyword"),
    ("def f(m):\n    return m.tobytes()\n", "memoryview/math feature missing"),
    ("import struct\nS = struct.Struct('<I')\n", "struct feature missing"),
    ("def f(t):\n    return t._asdict()\n", "namedtuple method missing"),
    ("class A:\n    __slots__ = ('a',)\n", "class or exception feature"),
    ("class A:\n    def __del__(self):\n        pass\n", "class or exception feature"),
    ("def f():\n    return f.__doc__\n", "class or exception feature"),
    ("def f():\n    try:\n        open('x')\n    except FileNotFoundError:\n        pass\n",
     "exception class missing"),
    ("def f(e):\n    raise ValueError(1) from e\n", "no exception chaining"),
    ("import time\nY = time.gmtime(0).tm_year\n", "no struct_time attributes"),
    ("def f(s):\n    return s.swapcase()\n", "str method missing"),
    ("def f(d):\n    return f\"{d[\"k\"]}\"\n", "does not parse on CPython"),
    ("async def rows(q):\n    while True:\n        yield await q.get()\n", "async generator"),
])
def test_device_check_rejects_unportable_code(tmp_path, source, expect):
    tree = make_tree(tmp_path, source)
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "check_device.py"), str(tree)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert expect in r.stdout


def test_device_check_lint_skips_cpython_only_lines_and_names_in_strings():
    from tools.check_device import lint_core
    ok = ("    import traceback  # CPython only\n"
          "    return type(e).__name__ == \"TimeoutError\"\n")
    assert lint_core("firmware/x.py", ok) == []
    assert len(lint_core("firmware/x.py", "    import traceback  # on the device too\n")) == 1


@pytest.mark.skipif(shutil.which("mpy-cross") is None, reason="mpy-cross not installed")
def test_device_check_accepts_the_project():
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "check_device.py")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout
