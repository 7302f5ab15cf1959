# A stand-in for MicroPython's esp32 module as far as partitions and NVS go:
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

    def __init__(self, ptype, subtype, addr, size, label, flash, encrypted=False):
        self.ptype = ptype
        self.subtype = subtype
        self.addr = addr
        self.size = size
        self.label = label
        self.flash = flash
        self.encrypted = encrypted

    @staticmethod
    def find(type=TYPE_APP, subtype=0xFF, label=None, block_size=4096):
        return [p for p in Partition.table
                if p.ptype == type and (subtype == 0xFF or p.subtype == subtype)
                and (label is None or p.label == label)]

    def info(self):
        return (self.ptype, self.subtype, self.addr, self.size, self.label, self.encrypted)

    def readblocks(self, block, buf, offset=0):
        self.flash.readblocks(block, buf, offset)

    def writeblocks(self, block, buf, offset=None):
        self.flash.writeblocks(block, buf, offset)

    def ioctl(self, op, arg):
        return self.flash.ioctl(op, arg)


class NVS:
    # esp32.NVS(namespace): blobs that survive a reset; get_blob fills the
    # buffer and returns the length, OSError when the key is not there
    def __init__(self, store, space):
        self.store = store
        self.space = space
        self.pending = {}

    def get_blob(self, key, buf):
        v = self.store.get((self.space, key))
        if v is None:
            raise OSError(-0x1102, "ESP_ERR_NVS_NOT_FOUND")
        if len(v) > len(buf):
            raise OSError(-0x1107, "ESP_ERR_NVS_INVALID_LENGTH")
        buf[: len(v)] = v
        return len(v)

    def set_blob(self, key, value):
        self.pending[(self.space, key)] = bytes(value)

    def commit(self):
        self.store.update(self.pending)
        self.pending = {}


class Esp32:
    # the module: Esp32(rows).Partition, rows of (label, type, subtype,
    # offset, size) as in a partition CSV; the application-type partitions
    # (0x40 and up: the journal's) get an emulator, the others only their
    # place; devices: {label: a block device already made} (e.g. the
    # file-backed boards.host.flash.FileFlash). One simulated chip at a
    # time: the Partition class holds its table.
    def __init__(self, rows, encrypted=(), devices=None):
        self.Partition = Partition
        self.nvs = {}
        devices = devices or {}
        table = []
        for label, t, s, off, size in rows:
            dev = devices.get(label)
            if dev is None and t >= 0x40:
                dev = NorFlash(size // 4096)
            table.append(Partition(t, s, off, size, label, dev, label in encrypted))
        Partition.table = table

    def NVS(self, space):
        return NVS(self.nvs, space)

    def flash(self, label):
        for p in Partition.table:
            if p.label == label:
                return p.flash
        raise KeyError(label)
