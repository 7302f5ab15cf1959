# The keypad driver (drivers/keypad.py) on the key-matrix double
# (boards/host/hw/keymatrix.py) through the host's Pin stand-in: every key of
# the register's 6x5 keypad by name (KZ-11: the keys the UI names), bounce
# filtered, a ghost key never taken, rollover, no repeat, the asyncio side.
import asyncio

from hwkit import fresh
from keymatrix import KeyMatrix

from drivers.keypad import Keypad
from ui import keys as K

ROWS = (13, 14, 15, 16, 17, 18)
COLS = (19, 21, 22, 23, 25)


class Clock:
    def __init__(self):
        self.t = 5000

    def __call__(self):
        return self.t


def _rig(diodes=False):
    m = fresh()
    clock = Clock()
    mx = KeyMatrix(ROWS, COLS, clock, diodes)
    rows = [m.Pin(p, m.Pin.OPEN_DRAIN, value=1) for p in ROWS]
    cols = [m.Pin(p, m.Pin.IN, m.Pin.PULL_UP) for p in COLS]
    return clock, mx, Keypad(rows, cols, K.PAD, ticks=clock)


def _run(pad, clock, ms, step=2):
    for _ in range(ms // step):
        clock.t += step
        pad.step()
    out = pad.keys[:]
    del pad.keys[:]
    return out


def test_kz_11_every_key_of_the_keypad_comes_by_its_name():
    clock, mx, pad = _rig()
    got = []
    for r in range(6):
        for c in range(5):
            mx.press(r, c)
            got += _run(pad, clock, 60)
            mx.release(r, c)
            got += _run(pad, clock, 60)
    assert got == [k for row in K.PAD for k in row]
    assert set(got) <= set(K.KEYS)


def test_a_bouncing_key_counts_once_and_a_brush_not_at_all():
    clock, mx, pad = _rig()
    mx.press(2, 0, bounce_ms=25)  # "7"
    raw = set()
    for _ in range(20):
        clock.t += 1
        raw.add(pad.scan())
    assert raw == {(), ((2, 0),)}  # the contact chatters
    assert _run(pad, clock, 200, 1) == ["7"]
    mx.release(2, 0, bounce_ms=25)
    assert _run(pad, clock, 200, 1) == []
    mx.press(2, 1, bounce_ms=0)
    assert _run(pad, clock, 14, 1) == []
    mx.release(2, 1, bounce_ms=0)  # touched for 14 ms: under the 30 ms settle time
    assert _run(pad, clock, 100, 1) == []


def test_a_held_key_does_not_repeat():
    clock, mx, pad = _rig()
    mx.press(5, 4)
    assert _run(pad, clock, 2000) == [K.ENT]


def test_three_corners_make_a_ghost_and_nothing_is_taken():
    clock, mx, pad = _rig()
    for rc in ((2, 0), (2, 1), (3, 0)):  # 7, 8, 4 -> 5 reads as pressed too
        mx.press(*rc)
    assert _run(pad, clock, 100) == []
    assert pad.scan() == ((2, 0), (2, 1), (3, 0), (3, 1))  # the ghost is there
    clock2, mx2, pad2 = _rig(diodes=True)
    for rc in ((2, 0), (2, 1), (3, 0)):
        mx2.press(*rc)
    assert pad2.scan() == ((2, 0), (2, 1), (3, 0))  # with diodes: none
    assert _run(pad2, clock2, 100) == []


def test_rollover_takes_the_second_key_when_the_first_is_let_go():
    clock, mx, pad = _rig()
    mx.press(4, 0)  # "1"
    assert _run(pad, clock, 60) == ["1"]
    mx.press(4, 1)  # "2" while "1" is held
    assert _run(pad, clock, 60) == []
    mx.release(4, 0)
    assert _run(pad, clock, 60) == ["2"]
    mx.release(4, 1)
    mx.press(4, 1)  # pressed again after a release: taken again
    assert _run(pad, clock, 100) == []  # released and pressed within the settle time: no release seen
    mx.release(4, 1)
    _run(pad, clock, 60)
    mx.press(4, 1)
    assert _run(pad, clock, 60) == ["2"]


def test_the_input_task_awaits_keys_in_real_time():
    m = fresh()
    mx = KeyMatrix(ROWS, COLS)
    pad = Keypad([m.Pin(p, m.Pin.OPEN_DRAIN, value=1) for p in ROWS],
                 [m.Pin(p, m.Pin.IN, m.Pin.PULL_UP) for p in COLS], K.PAD)

    async def main():
        mx.press(0, 4)
        return await asyncio.wait_for(pad.get(), 2)

    assert asyncio.run(main()) == K.MENU
