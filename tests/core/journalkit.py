# Helpers for the accumulator tests: a fresh accumulator on NOR flash
# emulators, and the same flash opened again (a reboot).
from boards.sim.nor_flash import NorFlash
from journal import Accumulator

KEY = b"device-secret-0123456789abcdef"
T0 = 1700000000


def new(log_blocks=8, fm_blocks=2, retention=3600):
    log = NorFlash(log_blocks)
    fm = NorFlash(fm_blocks)
    return log, fm, Accumulator(log, fm, KEY, retention)


def reopen(log, fm, retention=3600):
    return Accumulator(log, fm, KEY, retention)
