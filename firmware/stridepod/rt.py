# Runtime glue that differs between MicroPython and CPython: the millisecond
# clock, millisecond sleep, and a flag an IRQ can set (ThreadSafeFlag on
# MicroPython; an auto-clearing Event under CPython). Nothing else here.
import asyncio

try:
    from time import ticks_add, ticks_diff, ticks_ms
except ImportError:  # CPython (the type check targets MicroPython: no monotonic there)
    import time

    _T0 = time.monotonic()  # type: ignore[attr-defined]

    def ticks_ms():
        return int((time.monotonic() - _T0) * 1000)  # type: ignore[attr-defined]

    def ticks_diff(a, b):
        return a - b

    def ticks_add(a, b):
        return a + b


if hasattr(asyncio, "sleep_ms"):
    sleep_ms = asyncio.sleep_ms  # MicroPython's: reuses one object, allocates nothing
else:

    async def sleep_ms(ms):
        await asyncio.sleep(ms / 1000)


if hasattr(asyncio, "ThreadSafeFlag"):
    Flag = asyncio.ThreadSafeFlag
else:

    class Flag:
        # CPython stand-in with ThreadSafeFlag's semantics: wait() clears
        def __init__(self):
            self._ev = asyncio.Event()

        def set(self):
            self._ev.set()

        def clear(self):
            self._ev.clear()

        async def wait(self):
            await self._ev.wait()
            self._ev.clear()


async def wait_flag(flag, ms):
    # wait for flag or ms, whichever first; -> True when the flag was set
    try:
        if hasattr(asyncio, "wait_for_ms"):
            await asyncio.wait_for_ms(flag.wait(), ms)
        else:
            await asyncio.wait_for(flag.wait(), ms / 1000)
        return True
    except asyncio.TimeoutError:
        return False
