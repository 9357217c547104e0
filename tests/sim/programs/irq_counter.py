# Prints every edge an IRQ on GP14 reports, while the program waits in time.sleep
# (argv[1] == "sleep") or in asyncio (argv[1] == "asyncio").
import sys
import time
from machine import Pin

count = [0]


def handler(pin):
    count[0] += 1
    print("edge %d level %d flags %d" % (count[0], pin.value(), irq.flags()))


button = Pin(14, Pin.IN, Pin.PULL_UP)
irq = button.irq(handler=handler, trigger=Pin.IRQ_FALLING | Pin.IRQ_RISING)
print("ready")
if sys.argv[1] == "asyncio":
    import asyncio

    async def main():
        while True:
            await asyncio.sleep(10)

    asyncio.run(main())
else:
    while True:
        time.sleep(10)
