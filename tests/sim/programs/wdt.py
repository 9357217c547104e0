# The watchdog: argv[1] is "late" (a feed after the timeout), "starved" (asyncio keeps running
# but nothing feeds) or "fed" (fed in time for a while, then a normal end).
import sys
import time
from machine import WDT

mode = sys.argv[1]
dog = WDT(timeout=200)
print("armed")
if mode == "late":
    time.sleep(0.4)
    dog.feed()
elif mode == "starved":
    import asyncio

    async def main():
        await asyncio.sleep(5)

    asyncio.run(main())
else:
    for _ in range(10):
        time.sleep_ms(50)
        dog.feed()
print("survived")
