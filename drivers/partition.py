# The fiscal data accumulator's two raw flash partitions (docs/journal.md,
# HARDWARE.md 5.1) as block devices. On the ESP32 an esp32.Partition already
# speaks the protocol the journal uses (readblocks/writeblocks with an
# offset: program only; ioctl 4/5/6: count, size, erase one block); this
# finds the two by label, type and subtype and refuses any partition the
# journal's NOR rules would not hold on.

LOG = "fjournal"  # the log (operational memory)
FM = "fmemory"  # the fiscal memory of Z summaries
TYPE = 0x40  # first partition type free for applications (ESP-IDF)
SUBTYPE = {LOG: 0x00, FM: 0x01}
BLOCK = 4096


class PartitionError(OSError):
    # args: (what, label): "missing", "encrypted", "block size"
    pass


def open_partition(label, esp32=None):
    if esp32 is None:
        import esp32
    found = esp32.Partition.find(type=TYPE, subtype=SUBTYPE[label], label=label)
    if not found:
        # not in the table, or with another type: an image built for
        # something else (boards/esp32*/partitions*.csv have them)
        raise PartitionError("missing", label)
    p = found[0]
    info = p.info()
    if info[5]:
        # flash encryption turns "program only 1 -> 0" into ciphertext
        # writes: the append-only log and its release stamps need raw NOR
        raise PartitionError("encrypted", label)
    if p.ioctl(5, 0) != BLOCK or info[3] % BLOCK:
        raise PartitionError("block size", label)
    return p


def journal_devices(esp32=None):
    # -> (log device, fiscal memory device) for journal.Accumulator
    return open_partition(LOG, esp32), open_partition(FM, esp32)
