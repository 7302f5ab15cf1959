# The buzzer driver (drivers/beeper.py) on the host's Pin stand-in: a beep
# raises the pin and a task lowers it again without holding the loop.
import asyncio

from hwkit import fresh

from drivers.beeper import Beeper


def test_a_beep_sounds_for_its_time_and_the_loop_goes_on():
    m = fresh()
    b = Beeper(m.Pin(4, m.Pin.OUT))
    assert m.levels[4] == 0

    async def main():
        b.beep(30)
        during = m.levels[4]
        await asyncio.sleep(0.005)
        still = m.levels[4]
        await asyncio.sleep(0.06)
        return during, still, m.levels[4]

    assert asyncio.run(main()) == (1, 1, 0)
