# manifest.py freezes exactly what the register's image needs (issue 11 §1):
# every module of firmware/, drivers/, the ESP32 boards and the start
# scripts, nothing of the host or simulated boards, tools or tests; and every
# module the frozen code imports is frozen too, built into MicroPython's
# esp32 port, or required from micropython-lib (manifest.REQUIRE).
import ast
import os
import re
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, ROOT)

from tools import deploy  # noqa: E402

# modules of the esp32 port's firmware (C modules, and asyncio from the
# manifest's include of extmod/asyncio)
ESP32_BUILTINS = {"array", "asyncio", "binascii", "bluetooth", "builtins", "cmath", "collections", "cryptolib",
                  "deflate", "errno", "esp", "esp32", "framebuf", "gc", "hashlib", "heapq", "io", "json", "machine",
                  "math", "micropython", "network", "os", "platform", "random", "re", "select", "socket", "ssl",
                  "struct", "sys", "time", "uctypes", "vfs", "websocket", "_thread"}


def frozen():
    # {module name as imported on the device: source path}, the required
    # packages; the digest module written first, as make firmware does
    deploy.write_frozen_module()
    return deploy.image_modules()


def _device_sources():
    want = set()
    for top in ("firmware", "drivers"):
        for d, _dirs, files in os.walk(os.path.join(ROOT, top)):
            want.update(os.path.join(d, f) for f in files if f.endswith(".py"))
    for d, _dirs, files in os.walk(os.path.join(ROOT, "boards")):
        rel = os.path.relpath(d, os.path.join(ROOT, "boards"))
        if rel.split(os.sep)[0] in ("host", "sim", "vboard"):
            continue
        want.update(os.path.join(d, f) for f in files if f.endswith(".py"))
    want.add(os.path.join(deploy.FROZEN_DIR, deploy.DIGEST_MODULE))
    return want


def test_manifest_freezes_exactly_the_device_code():
    out, _ = frozen()
    assert set(out.values()) == _device_sources()
    assert all(os.path.exists(p) for p in out.values())
    names = set(out)
    assert {"main.py", "boot.py", "app.py", "journal/ring.py", "drivers/partition.py",
            "boards/esp32s3/__init__.py", "boards/esp32/chip.py", "frozen_digest.py"} <= names


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
    assert missing == []


# The board definitions configured by the esp32 port's own CMakeLists.txt (a
# MicroPython checkout in MPY_DIR; ESP-IDF is replaced by a stand-in that
# prints the combined sdkconfig the port hands it): the partition table,
# flash size, PSRAM mode and manifest the image is built with.
MPY_DIR = os.environ.get("MPY_DIR")
_PORT = os.path.join(MPY_DIR or "", "ports", "esp32", "CMakeLists.txt")


@pytest.mark.skipif(not os.path.exists(_PORT) or not shutil.which("cmake"),
                    reason="needs MPY_DIR (a MicroPython checkout) and cmake")
@pytest.mark.parametrize("board,variant,csv,size,spiram", [
    ("esp32s3/KKM_ESP32S3", None, "esp32s3/partitions.csv", "16MB", "CONFIG_SPIRAM_MODE_OCT"),
    ("esp32/KKM_ESP32", None, "esp32/partitions.csv", "4MB", None),
    ("esp32/KKM_ESP32", "FLASH_8MiB", "esp32/partitions-8MiB.csv", "8MB", None),
])
def test_board_definition_sets_the_partition_table_in_the_port_build(tmp_path, board, variant, csv, size, spiram):
    idf = tmp_path / "idf" / "tools" / "cmake"
    idf.mkdir(parents=True)
    (idf / "project.cmake").write_text('file(READ ${SDKCONFIG_DEFAULTS} C)\nmessage(STATUS "COMBINED<<${C}>>")\n'
                                       'message(STATUS "MANIFEST=${MICROPY_FROZEN_MANIFEST}")\n'
                                       "function(idf_build_set_property)\nendfunction()\n")
    cmd = ["cmake", "-S", os.path.dirname(_PORT), "-B", str(tmp_path / "b"), "-DMICROPY_BOARD=x",
           "-DMICROPY_BOARD_DIR=" + os.path.join(ROOT, "boards", board)]
    if variant:
        cmd.append("-DMICROPY_BOARD_VARIANT=" + variant)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, IDF_PATH=str(tmp_path / "idf")))
    out = r.stdout + r.stderr
    combined = out.split("COMBINED<<", 1)[1].split(">>", 1)[0]

    def last(key):
        vals = [ln.split("=", 1)[1] for ln in combined.splitlines() if ln.startswith(key + "=")]
        return vals[-1] if vals else None

    assert last("CONFIG_PARTITION_TABLE_CUSTOM_FILENAME") == '"%s"' % os.path.join(ROOT, "boards", csv)
    assert last("CONFIG_ESPTOOLPY_FLASHSIZE") == '"%s"' % size
    assert last("CONFIG_ESPTOOLPY_FLASHSIZE_%s" % size) == "y"
    if spiram:
        assert last(spiram) == "y"  # the N16R8's octal PSRAM
    assert "MANIFEST=" + os.path.join(ROOT, "manifest.py") in out


_MANIFESTFILE = os.path.join(MPY_DIR or "", "tools", "manifestfile.py")


@pytest.mark.skipif(not os.path.exists(_MANIFESTFILE), reason="needs MPY_DIR (a MicroPython checkout)")
def test_micropythons_own_manifest_tool_freezes_the_same_files():
    # the build's tools/manifestfile.py in freeze mode, against the port's
    # folders: the files it lists are the ones the tests above check
    r = subprocess.run([sys.executable, _MANIFESTFILE, "--freeze", "--top", MPY_DIR, "--port",
                        os.path.join(MPY_DIR, "ports", "esp32"), "manifest.py"], cwd=ROOT, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    listed = dict(re.findall(r"full_path='([^']*)', target_path='([^']*)'", r.stdout))
    ours = {os.path.normpath(p): n for p, n in listed.items() if p.startswith(ROOT + os.sep)}
    out, _ = frozen()
    assert {os.path.normpath(p): n for n, p in out.items()} == ours
    # and from the port: its start-up modules and asyncio
    assert {"_boot.py", "flashbdev.py", "asyncio/core.py"} <= set(listed.values())
