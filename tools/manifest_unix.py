# The firmware frozen into a unix build of MicroPython (make bench-mem32): the
# same frozen bytecode, strings and constant tuples as in a release image
# (manifest.py), so the heap figures of tools/bench_memory.py --frozen hold
# for the device. The unix port's own manifest is left out: it needs
# micropython-lib, which the firmware does not use.
include("$(MPY_DIR)/extmod/asyncio")
freeze("../firmware")
