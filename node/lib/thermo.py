"""The RP2350's on-chip temperature sensor: raw ADC reading to degrees Celsius. Pure."""

VREF = 3.3


def temp_c(raw_u16):
    volts = raw_u16 * VREF / 65535
    return round(27 - (volts - 0.706) / 0.001721, 1)
