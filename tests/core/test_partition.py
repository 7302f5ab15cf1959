# The accumulator on the ESP32's raw partitions (KZ-28): drivers.partition
# finds fjournal and fmemory through esp32.Partition (here the stand-in
# boards.sim.partition over NOR emulators) and the journal runs on them;
# a table without them, or an encrypted one, is refused by name.
from boards.sim.partition import Esp32
from drivers import partition as P
from journal import Accumulator

KEY = b"partition-test-key"
T0 = 1767254400
ROWS = [
    ("nvs", 1, 2, 0x9000, 0x6000),
    ("factory", 0, 0, 0x10000, 0x1F0000),
    ("vfs", 1, 0x81, 0x200000, 0x40000),
    ("fjournal", 0x40, 0x00, 0x240000, 16 * 4096),
    ("fmemory", 0x40, 0x01, 0x300000, 2 * 4096),
]


def _refused(rows, **kw):
    try:
        P.journal_devices(Esp32(rows, **kw))
    except P.PartitionError as e:
        return e.args
    return None


def test_kz_28_accumulator_on_the_raw_partitions_keeps_records_across_a_reboot():
    chip = Esp32(ROWS)
    log, fm = P.journal_devices(chip)
    assert log.info()[2:5] == (0x240000, 16 * 4096, "fjournal")
    acc = Accumulator(log, fm, KEY)
    seq = acc.append(16, b"receipt", T0, need_ack=True)
    z = acc.close_shift(b"summary", T0 + 60)
    # the bytes went to the partitions' flash, program-only (no erase of a
    # written sector)
    assert chip.flash("fjournal").erase_counts[0] == 1
    again = Accumulator(*P.journal_devices(chip), key=KEY)
    assert again.read(seq) == (16, T0, b"receipt")
    assert again.z_count() == z == 1 and again.unacked() == [seq]
    assert again.self_test().ok


def test_missing_partition_is_named():
    assert _refused(ROWS[:4]) == ("missing", "fmemory")
    # the right name with a data type: an image built for something else
    rows = ROWS[:3] + [("fjournal", 1, 0x81, 0x240000, 16 * 4096), ROWS[4]]
    assert _refused(rows) == ("missing", "fjournal")


def test_encrypted_partition_is_refused():
    # program-only writes need the raw NOR bits (docs/journal.md)
    assert _refused(ROWS, encrypted=("fjournal",)) == ("encrypted", "fjournal")


def test_partitions_on_given_devices():
    # a board stand-in on existing emulators (the virtual board's files)
    from boards.sim.nor_flash import NorFlash

    log, fm = NorFlash(16), NorFlash(2)
    chip = Esp32(ROWS, devices={"fjournal": log, "fmemory": fm})
    got = P.journal_devices(chip)
    assert got[0].flash is log and got[1].flash is fm
    assert got[0].info()[3] == 16 * 4096 and Accumulator(got[0], got[1], KEY).self_test().ok
