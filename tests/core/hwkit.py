# The host's `machine` stand-in and the chip doubles (boards/host/hw) on the
# path, for the driver tests; fresh() clears the pins and buses between tests.
import sys

_here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
HW = _here + "/../../boards/host/hw"
if HW not in sys.path:
    sys.path.append(HW)

import machine  # noqa: E402


def fresh():
    machine.reset()
    del machine.log[:]
    return machine


def transfers(addr=None):
    # the I2C transfers so far: (address, "w" or "r", bytes)
    return [t for t in machine.log if addr is None or t[0] == addr]
