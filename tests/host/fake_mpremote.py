"""A test double of `mpremote connect PORT exec CODE` for tools/service.py:
runs CODE (under this Python) on the chip of tests/host/fake_esptool.py
($FAKE_CHIP): esp32.Partition over its flash image as its partition table
says (boards.sim.partition), machine.unique_id() its MAC."""

import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, ROOT)

from boards.sim.partition import Esp32  # noqa: E402
from tools import partition_table as PT  # noqa: E402


class Machine:
    def __init__(self, mac):
        self.mac = bytes.fromhex(mac.replace(":", ""))

    def unique_id(self):
        return self.mac


def main(argv):
    chip = os.environ["FAKE_CHIP"]
    if argv[:1] != ["connect"] or argv[2:3] != ["exec"]:
        print("fake mpremote: connect PORT exec CODE only")
        return 2
    if argv[1] != os.path.join(chip, "port"):
        print("failed to access %s (it may be in use by another program)" % argv[1])
        return 1
    flash = open(os.path.join(chip, "flash.bin"), "rb").read()
    rows = PT.parse_binary(flash[PT.TABLE_OFFSET:PT.TABLE_OFFSET + PT.TABLE_SIZE])
    esp32 = Esp32([(r["name"], r["type"], r["subtype"], r["offset"], r["size"]) for r in rows])
    for r in rows:
        if r["type"] >= 0x40:
            esp32.flash(r["name"]).data[:] = flash[r["offset"]:r["offset"] + r["size"]]
    sys.modules["esp32"] = esp32
    sys.modules["machine"] = Machine(open(os.path.join(chip, "mac.txt")).read().strip())
    exec(argv[3], {"__name__": "__main__"})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
