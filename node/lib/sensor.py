"""The sensor task: reads the on-chip temperature every few seconds into the shared readings."""

import asyncio

from thermo import temp_c


async def run_sensor(shared, adc, period_s):
    while True:
        shared.set_reading("temp_c", temp_c(adc.read_u16()))
        await asyncio.sleep(period_s)
