# A beginner's mistake deep in a call through the board's own code: the traceback shows this
# file's lines and the exception only.
from machine import Pin, PWM


def fade(pin):
    pwm = PWM(Pin(pin))
    pwm.freq(1)  # too slow for the RP2350's PWM: ValueError


def main():
    fade(15)


main()
