# manifest.py freezes exactly what the register's image needs (issue 11 §1):
# every module of firmware/, drivers/, the ESP32 boards and the start
# scripts, nothing of the host or simulated boards, tools or tests; and every
# module the frozen code imports is frozen too, built into MicroPython's
# esp32 port, or required from micropython-lib (manifest.REQUIRE).
import ast
import os

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# modules of the esp32 port's firmware (C modules, and asyncio from the
# manifest's include of extmod/asyncio)
ESP32_BUILTINS = {"array", "asyncio", "binascii", "bluetooth", "builtins", "cmath", "collections", "cryptolib",
                  "deflate", "errno", "esp", "esp32", "framebuf", "gc", "hashlib", "heapq", "io", "json", "machine",
                  "math", "micropython", "network", "os", "platform", "random", "re", "select", "socket", "ssl",
                  "struct", "sys", "time", "uctypes", "vfs", "websocket", "_thread"}


def frozen():
    # run manifest.py with the manifest functions recording what it freezes:
    # {module name as imported on the device: source path}
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
    with open(os.path.join(ROOT, "manifest.py"), encoding="utf-8") as f:
        exec(compile(f.read(), "manifest.py", "exec"), env)
    return out, required


def _device_sources():
    want = set()
    for top in ("firmware", "drivers"):
        for d, _dirs, files in os.walk(os.path.join(ROOT, top)):
            want.update(os.path.join(d, f) for f in files if f.endswith(".py"))
    for d, _dirs, files in os.walk(os.path.join(ROOT, "boards")):
        rel = os.path.relpath(d, os.path.join(ROOT, "boards"))
        if rel.split(os.sep)[0] in ("host", "sim"):
            continue
        want.update(os.path.join(d, f) for f in files if f.endswith(".py"))
    return want


def test_manifest_freezes_exactly_the_device_code():
    out, _ = frozen()
    assert set(out.values()) == _device_sources()
    assert all(os.path.exists(p) for p in out.values())
    names = set(out)
    assert {"main.py", "boot.py", "app.py", "journal/ring.py", "drivers/partition.py",
            "boards/esp32s3/__init__.py", "boards/esp32/chip.py"} <= names


def _imports(path):
    # top-level module names imported; the CPython fallbacks (in an
    # `except ImportError` branch, or marked "CPython only") are not
    # imported on the device
    with open(path, encoding="utf-8") as f:
        src = f.read()
    lines = src.splitlines()
    skip = set()
    tree = ast.parse(src)
    for node in ast.walk(tree):
        if isinstance(node, ast.Try):
            for h in node.handlers:
                if isinstance(h.type, ast.Name) and h.type.id == "ImportError":
                    for n in ast.walk(h):
                        skip.add(id(n))
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if id(node) in skip or "CPython only" in lines[node.lineno - 1]:
            continue
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name.split(".")[0], a.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module.split(".")[0], node.module


# the drivers boards/esp32/wiring.py names, merged with their own files
PENDING = {"drivers.ds3231", "drivers.escpos", "drivers.hd44780", "drivers.keypad", "drivers.scanner", "net.wifi",
           "net.gsm"}


def test_every_import_of_the_image_is_frozen_builtin_or_required():
    out, required = frozen()
    modules = set()
    for n in out:
        m = n[:-3].replace("/", ".")
        modules.add(m[:-9] if m.endswith(".__init__") else m)
    missing = []
    for name, path in out.items():
        for top, full in _imports(path):
            if full in modules or top in ESP32_BUILTINS or top in required:
                continue
            missing.append((name, full))
    assert [m for m in missing if m[1] not in PENDING] == [], missing
