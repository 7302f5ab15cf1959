# asyncio in milliseconds on both runtimes: MicroPython has sleep_ms and
# wait_for_ms, CPython only the forms in seconds. Timeout is the exception
# wait_for raises at its deadline.

import asyncio

Timeout = asyncio.TimeoutError

if hasattr(asyncio, "sleep_ms"):
    sleep_ms = asyncio.sleep_ms
    wait_for_ms = asyncio.wait_for_ms
else:  # pragma: no cover - CPython

    def sleep_ms(ms):
        return asyncio.sleep(ms / 1000)

    def wait_for_ms(aw, ms):
        return asyncio.wait_for(aw, ms / 1000)
