# The register's buzzer (an active buzzer on a GPIO, high = sound): a beep
# that does not hold the loop (a task turns it off).

import asyncio

from aio import sleep_ms


class Beeper:
    def __init__(self, pin):
        self.pin = pin
        self.pin.off()

    def beep(self, ms=150):
        self.pin.on()
        asyncio.create_task(self._off(ms))

    async def _off(self, ms):
        await sleep_ms(ms)
        self.pin.off()
