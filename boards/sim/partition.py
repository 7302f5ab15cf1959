# A stand-in for MicroPython's esp32 module as far as partitions go:
# esp32.Partition.find(type, subtype, label) over a partition table whose
# raw data partitions are NOR flash emulators (boards.sim.nor_flash), with
# the info() tuple and the block-device calls of esp32.Partition (3-argument
# writeblocks erases first, 4-argument only programs; HARDWARE.md 5.1).

from boards.sim.nor_flash import NorFlash

TYPE_APP = 0
TYPE_DATA = 1


class Partition:
    TYPE_APP = TYPE_APP
    TYPE_DATA = TYPE_DATA
    table = []  # set by Esp32: the partitions of the simulated chip

    def __init__(self, ptype, subtype, addr, label, flash, encrypted=False):
        self.ptype = ptype
        self.subtype = subtype
        self.addr = addr
        self.label = label
        self.flash = flash
        self.encrypted = encrypted

    @staticmethod
    def find(type=TYPE_APP, subtype=0xFF, label=None, block_size=4096):
        return [p for p in Partition.table
                if p.ptype == type and (subtype == 0xFF or p.subtype == subtype)
                and (label is None or p.label == label)]

    def info(self):
        return (self.ptype, self.subtype, self.addr, self.flash.size, self.label, self.encrypted)

    def readblocks(self, block, buf, offset=0):
        self.flash.readblocks(block, buf, offset)

    def writeblocks(self, block, buf, offset=None):
        self.flash.writeblocks(block, buf, offset)

    def ioctl(self, op, arg):
        return self.flash.ioctl(op, arg)


class Esp32:
    # the module: Esp32(rows).Partition, rows of (label, type, subtype,
    # offset, size) as in a partition CSV; data partitions get an emulator
    def __init__(self, rows, encrypted=()):
        self.Partition = Partition
        Partition.table = [Partition(t, s, off, label, NorFlash(size // 4096), label in encrypted)
                           for label, t, s, off, size in rows]

    def flash(self, label):
        for p in Partition.table:
            if p.label == label:
                return p.flash
        raise KeyError(label)
