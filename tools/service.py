"""Service-centre commands for a real board: build the image, back up the
fiscal journal, flash (README, "Service centre").

    python tools/service.py firmware [--board esp32s3|esp32] [--variant FLASH_8MiB]
    python tools/service.py backup --port /dev/ttyACM0 --key KEYFILE [--board ...]
    python tools/service.py flash --port /dev/ttyACM0 [--image FILE] [--erase] [--board ...]

``firmware`` builds MicroPython with the board definition of boards/<board>/KKM_*
(partition table, frozen manifest.py, the frozen code's digest written first by
tools/deploy.py) from a MicroPython checkout ($MPY_DIR)
with ESP-IDF ($IDF_PATH, idf.py on PATH) and copies the combined image to
build/firmware-<board>.bin; without them it says exactly what is missing.

``backup`` reads the board's partition table, then both journal partitions
(fjournal, fmemory) with esptool read-flash, checks them against the chip
(verify-flash), verifies them with tools/journal_reader.py under the device
key and records the backup in var/backups/<MAC>/.

``flash`` writes a combined image with esptool at the chip's offset (ESP32
0x1000, S3 0x0). When that would destroy the journal (--erase, an image
whose partition table moves or drops fjournal/fmemory, or an image that
reaches into them) it refuses unless the latest backup of this board
verified and the chip still holds exactly the backed-up journal.
``ESPTOOL`` (environment) replaces the esptool command, e.g. for a test double.
"""

import argparse
import binascii
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)

from tools import deploy  # noqa: E402
from tools import journal_reader  # noqa: E402
from tools import partition_table as PT  # noqa: E402

BOARDS = {
    "esp32s3": {"chip": "esp32s3", "offset": 0x0, "dir": "boards/esp32s3/KKM_ESP32S3"},
    "esp32": {"chip": "esp32", "offset": 0x1000, "dir": "boards/esp32/KKM_ESP32"},
}
BAUD = 460800
BACKUPS = os.path.join(ROOT, "var", "backups")


class ServiceError(Exception):
    pass


# -- esptool ---------------------------------------------------------------------


def esptool_cmd():
    cmd = os.environ.get("ESPTOOL")
    if cmd:
        return shlex.split(cmd)
    exe = shutil.which("esptool") or shutil.which("esptool.py")
    if not exe:
        raise ServiceError("esptool not found: run make setup (it installs esptool from requirements.txt)")
    return [exe]


def esptool(board, port, *args, quiet=False):
    # quiet: the output is captured (and returned); otherwise esptool's
    # progress goes to the terminal (reading 8 MiB takes minutes)
    cmd = esptool_cmd() + ["--chip", BOARDS[board]["chip"], "--port", port, "--baud", str(BAUD)] + [str(a) for a in args]
    if not quiet:
        print("+ esptool " + " ".join(cmd[len(esptool_cmd()):]), flush=True)
    r = subprocess.run(cmd, capture_output=quiet, text=True)
    if r.returncode != 0:
        said = (r.stdout + r.stderr).strip() if quiet else "(its output is above)"
        raise ServiceError("esptool %s failed (exit %d):\n%s" % (args[0], r.returncode, said))
    return r.stdout


def check_port(port):
    if not port:
        raise ServiceError("no serial port: give PORT=/dev/ttyACM0 (S3 native USB) or /dev/ttyUSB0 "
                           "(`mpremote connect list` lists them)")
    if "://" not in port and not os.path.exists(port):
        raise ServiceError("serial port %s does not exist: is the board plugged in? "
                           "(`mpremote connect list` lists the ports)" % port)


def read_mac(board, port):
    out = esptool(board, port, "read-mac", quiet=True)
    m = re.search(r"^MAC:\s+([0-9a-fA-F:]{17})\s*$", out, re.M)
    if not m:
        raise ServiceError("esptool read-mac printed no MAC:\n" + out)
    return m.group(1).lower()


def device_table(board, port, tmp):
    # the partition table on the chip, or None when there is none (blank)
    path = os.path.join(tmp, "partitions.bin")
    esptool(board, port, "read-flash", hex(PT.TABLE_OFFSET), hex(PT.TABLE_SIZE), path, quiet=True)
    with open(path, "rb") as f:
        data = f.read()
    if data == b"\xff" * len(data):
        return None
    return PT.parse_binary(data)


def _journal_rows(rows):
    try:
        return PT.journal(rows)
    except PT.TableError:
        return None


# -- backup ----------------------------------------------------------------------


def _sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# Run on the board by `mpremote exec` (a board in service, or the virtual
# board): both journal partitions through esp32.Partition, base64 per 4 KiB
# block ("F" for a blank one), with the board's MAC and a SHA-256 of each
# partition computed on the board.
READOUT = """
import binascii, esp32, hashlib, machine, sys
print("M", binascii.hexlify(machine.unique_id()).decode())
b = bytearray(4096)
blank = b"\\xff" * 4096
for label in ("fjournal", "fmemory"):
    p = esp32.Partition.find(type=0x40, label=label)
    if not p:
        print("X", label)
        continue
    p = p[0]
    i = p.info()
    print("P", label, i[2], i[3])
    h = hashlib.sha256()
    for n in range(i[3] // 4096):
        p.readblocks(n, b)
        h.update(b)
        if b == blank:
            sys.stdout.write("F\\n")
        else:
            sys.stdout.write(binascii.b2a_base64(b).decode())
    print("H", binascii.hexlify(h.digest()).decode())
print("E")
"""


def mpremote_cmd():
    cmd = os.environ.get("MPREMOTE")
    if cmd:
        return shlex.split(cmd)
    exe = shutil.which("mpremote")
    if not exe:
        raise ServiceError("mpremote not found: run make setup (it installs mpremote from requirements.txt)")
    return [exe]


def parse_readout(text, folder):
    # the READOUT lines -> (mac, {name: row}); the partitions written to folder
    mac, parts, out, h = None, {}, None, None
    for line in text.splitlines():
        tag, _, rest = line.partition(" ")
        if tag == "M":
            mac = ":".join(rest[i:i + 2] for i in range(0, 12, 2))
        elif tag == "X":
            raise ServiceError("the board has no %s partition: there is no fiscal journal to back up" % rest)
        elif tag == "P":
            name, addr, size = rest.split()
            parts[name] = {"name": name, "offset": int(addr), "size": int(size)}
            out = open(os.path.join(folder, name + ".bin"), "wb")
            h = hashlib.sha256()
        elif tag == "F" and out is not None:
            out.write(b"\xff" * 4096)
            h.update(b"\xff" * 4096)
        elif tag == "H" and out is not None:
            out.close()
            out = None
            if rest != h.hexdigest():
                raise ServiceError("%s read out differs from the board's own SHA-256: a transfer error, run again"
                                   % name)
        elif tag == "E":
            break
        elif out is not None and line:
            data = binascii.a2b_base64(line)
            out.write(data)
            h.update(data)
    else:
        raise ServiceError("the board's readout ended early:\n" + text[-500:])
    if mac is None or set(parts) != set(PT.JOURNAL):
        raise ServiceError("the board's readout is incomplete:\n" + text[-500:])
    return mac, parts


def _folder(root, mac):
    folder = os.path.join(root, mac.replace(":", ""), time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))
    os.makedirs(folder, exist_ok=True)
    return folder


def read_out_esptool(board, port, root):
    mac = read_mac(board, port)
    folder = _folder(root, mac)
    rows = device_table(board, port, folder)
    j = _journal_rows(rows or [])
    if j is None:
        raise ServiceError("the board's partition table has no fjournal/fmemory: there is no fiscal journal to back up")
    for name, r in j.items():
        esptool(board, port, "read-flash", hex(r["offset"]), hex(r["size"]), os.path.join(folder, name + ".bin"))
    # the files are what the chip holds (an MD5 computed on the chip)
    esptool(board, port, "verify-flash", *_verify_args(folder, j))
    return mac, folder, j


def read_out_mpremote(port, root):
    with tempfile.TemporaryDirectory() as tmp:
        print("+ mpremote connect %s exec <journal readout>" % port, flush=True)
        r = subprocess.run(mpremote_cmd() + ["connect", port, "exec", READOUT], capture_output=True, text=True)
        if r.returncode != 0:
            raise ServiceError("mpremote failed (exit %d):\n%s" % (r.returncode, (r.stdout + r.stderr).strip()))
        mac, j = parse_readout(r.stdout, tmp)
        folder = _folder(root, mac)
        for name in j:
            shutil.move(os.path.join(tmp, name + ".bin"), os.path.join(folder, name + ".bin"))
    return mac, folder, j


def backup(board, port, key_path, root=BACKUPS, via="esptool"):
    check_port(port)
    if not key_path or not os.path.exists(key_path):
        raise ServiceError("KEY=<file of this register's device key> is needed to verify the journal's chain "
                           "(the key provisioned into the board's NVS, kept in the service centre's records)")
    if via == "mpremote":
        mac, folder, j = read_out_mpremote(port, root)
    else:
        mac, folder, j = read_out_esptool(board, port, root)
    record = {"mac": mac, "board": board, "port": port, "via": via,
              "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "partitions": {}}
    for name, r in j.items():
        record["partitions"][name] = {"offset": r["offset"], "size": r["size"],
                                      "sha256": _sha256(os.path.join(folder, name + ".bin"))}
    report = journal_reader.read_journal(_read(folder, "fjournal.bin"), _read(folder, "fmemory.bin"),
                                         journal_reader.read_key(key_path))
    with open(os.path.join(folder, "report.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, ensure_ascii=False, indent=1)
    journal_reader.write_csv(report, folder)
    record["verified"] = report["ok"]
    record["problems"] = report["problems"]
    with open(os.path.join(folder, "backup.json"), "w", encoding="utf-8") as f:
        json.dump(record, f, indent=1)
    with open(os.path.join(root, mac.replace(":", ""), "latest"), "w", encoding="ascii") as f:
        f.write(os.path.basename(folder) + "\n")
    print(journal_reader.summary(report))
    print("backup of %s in %s" % (mac, os.path.relpath(folder)))
    if not report["ok"]:
        raise ServiceError("the journal does not verify: the backup in %s is kept as evidence; flashing that would "
                           "destroy the journal stays refused" % os.path.relpath(folder))
    return folder


def _read(folder, name):
    with open(os.path.join(folder, name), "rb") as f:
        return f.read()


def _verify_args(folder, j):
    args = []
    for name, r in j.items():
        args += [hex(r["offset"]), os.path.join(folder, name + ".bin")]
    return args


def latest_backup(mac, root=BACKUPS):
    base = os.path.join(root, mac.replace(":", ""))
    try:
        with open(os.path.join(base, "latest"), encoding="ascii") as f:
            folder = os.path.join(base, f.read().strip())
        with open(os.path.join(folder, "backup.json"), encoding="utf-8") as f:
            return folder, json.load(f)
    except (OSError, ValueError):
        return None, None


# -- flash -----------------------------------------------------------------------


def image_table(image, offset):
    at = PT.TABLE_OFFSET - offset
    if len(image) < at + PT.TABLE_SIZE:
        raise ServiceError("the image is too short to hold a partition table at 0x8000: give the combined "
                           "firmware.bin of make firmware")
    try:
        return PT.parse_binary(image[at:at + PT.TABLE_SIZE])
    except PT.TableError as e:
        raise ServiceError("the image has no partition table at 0x8000 (%s): give the combined firmware.bin of "
                           "make firmware" % e)


def journal_risks(dev_j, img_j, image_end, erase):
    # why writing this image destroys the journal now on the chip ([] = it does not)
    if dev_j is None:
        return []
    why = []
    if erase:
        why.append("erase-flash wipes the whole chip")
    if img_j is None:
        why.append("the image's partition table has no fjournal/fmemory")
    elif any((img_j[n]["offset"], img_j[n]["size"]) != (dev_j[n]["offset"], dev_j[n]["size"]) for n in dev_j):
        why.append("the image's partition table moves fjournal/fmemory")
    if image_end > min(r["offset"] for r in dev_j.values()):
        why.append("the image reaches into the journal partitions (ends at 0x%x)" % image_end)
    return why


def flash(board, port, image_path, erase=False, root=BACKUPS):
    check_port(port)
    if not image_path or not os.path.exists(image_path):
        raise ServiceError("no image at %s: run `make firmware BOARD=%s` first, or give IMAGE=<firmware.bin>"
                           % (image_path, board))
    with open(image_path, "rb") as f:
        image = f.read()
    if not image:
        raise ServiceError("the image %s is empty" % image_path)
    offset = BOARDS[board]["offset"]
    img_j = _journal_rows(image_table(image, offset))
    mac = read_mac(board, port)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            rows = device_table(board, port, tmp)
        except PT.TableError as e:
            raise ServiceError("the board's partition table is damaged (%s): where its journal is cannot be "
                               "told; read the whole flash out (esptool read-flash 0 ALL) before anything" % e)
    dev_j = _journal_rows(rows or [])
    why = journal_risks(dev_j, img_j, offset + len(image), erase)
    if why:
        folder, rec = latest_backup(mac, root)
        hint = "run `make journal-backup PORT=%s KEY=<device key file>` first" % port
        if rec is None:
            raise ServiceError("refused: this would destroy the fiscal journal (%s) and board %s has no journal "
                               "backup: %s" % ("; ".join(why), mac, hint))
        if not rec.get("verified"):
            raise ServiceError("refused: this would destroy the fiscal journal (%s) and the latest backup (%s) did "
                               "not verify: %s" % ("; ".join(why), os.path.relpath(folder), "; ".join(rec["problems"])))
        if {n: (r["offset"], r["size"]) for n, r in rec["partitions"].items()} != \
                {n: (r["offset"], r["size"]) for n, r in dev_j.items()}:
            raise ServiceError("refused: the latest backup (%s) is of another partition table: %s"
                               % (os.path.relpath(folder), hint))
        try:
            esptool(board, port, "verify-flash", *_verify_args(folder, dev_j), quiet=True)
        except ServiceError:
            raise ServiceError("refused: the journal on the board changed since the backup of %s (%s): %s"
                               % (rec["time"], os.path.relpath(folder), hint))
        print("journal backup of %s verified against the board: %s" % (rec["time"], os.path.relpath(folder)))
    if erase:
        esptool(board, port, "erase-flash")
    esptool(board, port, "write-flash", hex(offset), image_path)
    if img_j is not None and img_j != dev_j and not erase:
        # a new place for the journal: it starts blank (manufacture)
        for r in img_j.values():
            esptool(board, port, "erase-region", hex(r["offset"]), hex(r["size"]))
    print("flashed %s (%d bytes at 0x%x) to board %s" % (os.path.relpath(image_path), len(image), offset, mac))


# -- firmware ---------------------------------------------------------------------


def build_dir(board, variant):
    name = os.path.basename(BOARDS[board]["dir"])
    return "build-%s-%s" % (name, variant) if variant else "build-" + name


def default_image(board, variant=None):
    return os.path.join(ROOT, "build", "firmware-%s%s.bin" % (board, "-" + variant if variant else ""))


def firmware_commands(board, variant, mpy_dir):
    # the port's submodules are fetched for the board (the S3 needs TinyUSB)
    port = os.path.join(mpy_dir, "ports", "esp32")
    make = ["make", "-C", port, "BOARD_DIR=" + os.path.join(ROOT, BOARDS[board]["dir"])]
    if variant:
        make.append("BOARD_VARIANT=" + variant)
    return [["make", "-C", os.path.join(mpy_dir, "mpy-cross")], make + ["submodules"], make]


def missing_for_build(mpy_dir, idf_path):
    missing = []
    if not mpy_dir:
        missing.append("MPY_DIR: a MicroPython checkout (git clone https://github.com/micropython/micropython), "
                       "e.g. make firmware MPY_DIR=$HOME/micropython")
    elif not os.path.exists(os.path.join(mpy_dir, "ports", "esp32", "Makefile")):
        missing.append("MPY_DIR=%s is not a MicroPython checkout (no ports/esp32/Makefile)" % mpy_dir)
    if not idf_path:
        missing.append("IDF_PATH: ESP-IDF 5.x (the version ports/esp32/README.md names), installed with "
                       "./install.sh esp32,esp32s3 and set up in this shell with `. $IDF_PATH/export.sh`")
    elif not os.path.exists(os.path.join(idf_path, "tools", "idf.py")):
        missing.append("IDF_PATH=%s is not an ESP-IDF tree (no tools/idf.py)" % idf_path)
    elif not shutil.which("idf.py"):
        missing.append("idf.py on PATH: run `. $IDF_PATH/export.sh` in this shell")
    return missing


def firmware(board, variant=None):
    mpy_dir = os.environ.get("MPY_DIR")
    missing = missing_for_build(mpy_dir, os.environ.get("IDF_PATH"))
    if missing:
        raise ServiceError("make firmware needs:\n  - " + "\n  - ".join(missing))
    # the port's make must not inherit this make's variables (BOARD=esp32s3
    # would override the board the definition folder names)
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "BOARD")}
    # the frozen code's digest, frozen with it (manifest.py): the boot checks it against the deployed manifest
    print("frozen code digest: %s" % os.path.relpath(deploy.write_frozen_module(), ROOT))
    for cmd in firmware_commands(board, variant, mpy_dir):
        print("+ " + " ".join(cmd))
        if subprocess.run(cmd, env=env).returncode != 0:
            raise ServiceError("build step failed: " + " ".join(cmd))
    out = os.path.join(mpy_dir, "ports", "esp32", build_dir(board, variant), "firmware.bin")
    dest = default_image(board, variant)
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    shutil.copyfile(out, dest)
    print("image: %s (%d bytes; write it with make flash BOARD=%s PORT=...)" % (os.path.relpath(dest),
                                                                               os.path.getsize(dest), board))
    return dest


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("firmware", "backup", "flash"):
        p = sub.add_parser(name)
        p.add_argument("--board", choices=sorted(BOARDS), default="esp32s3")
        p.add_argument("--variant", default=None, help="board variant (esp32: FLASH_8MiB)")
        if name != "firmware":
            p.add_argument("--port", default=None)
            p.add_argument("--backups", default=BACKUPS, help="folder of the journal backups")
        if name == "backup":
            p.add_argument("--key", default=None, help="file with the device key")
            p.add_argument("--via", choices=("esptool", "mpremote"), default="esptool",
                           help="read the partitions with esptool (ROM loader) or through the running MicroPython")
        if name == "flash":
            p.add_argument("--image", default=None, help="combined image (default: make firmware's)")
            p.add_argument("--erase", action="store_true", help="erase the whole chip first")
    a = ap.parse_args(argv)
    try:
        if a.cmd == "firmware":
            firmware(a.board, a.variant)
        elif a.cmd == "backup":
            backup(a.board, a.port, a.key, a.backups, a.via)
        else:
            flash(a.board, a.port, a.image or default_image(a.board, a.variant), a.erase, a.backups)
    except (ServiceError, PT.TableError, OSError) as e:
        print("%s: %s" % (a.cmd, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
