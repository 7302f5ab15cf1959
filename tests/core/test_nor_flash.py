# NOR flash emulator (boards/sim/nor_flash.py): the rules the journal relies on.
from boards.sim.nor_flash import NorFlash, FlashError, PowerCut


def _read(f, block, n, off=0):
    b = bytearray(n)
    f.readblocks(block, b, off)
    return b


def test_fresh_is_erased_and_geometry():
    f = NorFlash(4)
    assert f.ioctl(4, 0) == 4
    assert f.ioctl(5, 0) == 4096
    assert _read(f, 3, 16, 4080) == b"\xff" * 16


def test_program_clears_bits_only():
    f = NorFlash(2)
    f.writeblocks(0, b"\x7f\x0f", 10)
    assert _read(f, 0, 2, 10) == b"\x7f\x0f"
    f.writeblocks(0, b"\x3f", 10)  # clears one more bit: allowed
    assert _read(f, 0, 1, 10) == b"\x3f"
    try:
        f.writeblocks(0, b"\x00\xff\x01", 10)  # 0x0f -> 0xff sets bits
        assert False
    except FlashError as e:
        assert type(e) is FlashError
        assert e.args[0] == 5
    assert _read(f, 0, 3, 10) == b"\x3f\x0f\xff"  # nothing of that write landed


def test_erase_sets_ff_and_counts():
    f = NorFlash(3)
    f.writeblocks(1, b"\x00" * 100, 0)
    assert f.ioctl(6, 1) == 0
    assert _read(f, 1, 100) == b"\xff" * 100
    assert f.erase_counts == [0, 1, 0]
    f.writeblocks(2, b"abc")  # 3-argument form erases first
    assert f.erase_counts == [0, 1, 1]
    f.writeblocks(2, b"xyz")
    assert _read(f, 2, 3) == b"xyz"


def test_out_of_range_is_an_error():
    f = NorFlash(2)
    for call in (
        lambda: f.readblocks(1, bytearray(10), 4090),
        lambda: f.readblocks(2, bytearray(1)),
        lambda: f.writeblocks(1, b"12345678", 4092),
        lambda: f.ioctl(6, 2),
    ):
        try:
            call()
            assert False
        except FlashError as e:
            assert e.args[0] == 22


def test_power_cut_after_n_bytes():
    f = NorFlash(2)
    f.cut_after(3)
    try:
        f.writeblocks(0, b"ABCDEF", 0)
        assert False
    except PowerCut:
        pass
    assert _read(f, 0, 6) == b"ABC\xff\xff\xff"
    f.writeblocks(0, b"G", 6)  # cut is one-shot
    assert _read(f, 0, 7) == b"ABC\xff\xff\xffG"


def test_power_cut_budget_spans_writes():
    f = NorFlash(1)
    f.cut_after(5)
    f.writeblocks(0, b"abc", 0)
    try:
        f.writeblocks(0, b"defg", 3)
        assert False
    except PowerCut:
        pass
    assert _read(f, 0, 7) == b"abcde\xff\xff"


def test_power_cut_during_erase_leaves_mixed_sector():
    f = NorFlash(1)
    f.writeblocks(0, b"\x00" * 4096, 0)
    f.cut_erase()
    try:
        f.ioctl(6, 0)
        assert False
    except PowerCut:
        pass
    assert _read(f, 0, 4, 0) == b"\xff" * 4
    assert _read(f, 0, 4, 4092) == b"\x00" * 4


def test_snapshot_restore_and_copy():
    f = NorFlash(2)
    f.writeblocks(0, b"one", 0)
    snap = f.snapshot()
    g = f.copy()
    f.writeblocks(0, b"two", 3)
    f.restore(snap)
    assert _read(f, 0, 6) == b"one\xff\xff\xff"
    assert _read(g, 0, 3) == b"one"


def test_lenient_mode_ands_bits_like_a_real_chip():
    # A real chip reports nothing when a 1 is written over a 0: the byte
    # becomes the AND of old and new. strict=False models that.
    f = NorFlash(1, strict=False)
    f.writeblocks(0, b"\x0f\xf0", 0)
    f.writeblocks(0, b"\xff\x3c", 0)
    assert _read(f, 0, 2) == b"\x0f\x30"
    f.cut_after(1)
    try:
        f.writeblocks(0, b"\x00\x00", 0)
        assert False
    except PowerCut:
        pass
    assert _read(f, 0, 2) == b"\x00\x30"


def test_power_cut_during_erase_can_keep_the_start_of_the_block():
    # The other order: the end of the block is erased, its start (where a
    # sector header lives) keeps the old data.
    f = NorFlash(1)
    f.writeblocks(0, b"\x00" * 4096, 0)
    f.cut_erase(True)
    try:
        f.ioctl(6, 0)
        assert False
    except PowerCut:
        pass
    assert _read(f, 0, 2048) == b"\x00" * 2048
    assert _read(f, 0, 2048, 2048) == b"\xff" * 2048


def test_four_argument_write_at_offset_0_never_erases():
    f = NorFlash(1)
    f.writeblocks(0, b"\x0f", 0)
    try:
        f.writeblocks(0, b"\xf0", 0)
        assert False
    except FlashError:
        pass
    assert f.erase_counts == [0] and _read(f, 0, 1) == b"\x0f"
