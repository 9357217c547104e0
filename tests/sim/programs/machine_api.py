# Checks the machine stand-in's API the way a Pico program uses it; prints ALL OK at the end
# or FAIL lines.
import binascii
import machine
from machine import Pin, Signal

failures = []


def check(what, got, want):
    if got != want:
        failures.append(what)
        print("FAIL %s: got %r, want %r" % (what, got, want))


def error_of(make):
    try:
        make()
    except ValueError as e:
        return str(e)
    return None


check("int 30", error_of(lambda: Pin(30)), "invalid pin")
check("GP99", error_of(lambda: Pin("GP99")), 'unknown named pin "GP99"')
check("name", error_of(lambda: Pin("D5")), 'unknown named pin "D5"')
check("GPIO name", Pin("GPIO7").name, "GP7")
check("LED name", Pin("LED").name, "LED")
check("pull-up reads 1", Pin(2, Pin.IN, Pin.PULL_UP).value(), 1)
check("pull-down reads 0", Pin(3, Pin.IN, Pin.PULL_DOWN).value(), 0)
out = Pin(15, Pin.OUT, value=1)
check("output reads back", out.value(), 1)
check("same pin, other object", Pin("GP15").value(), 1)
out.toggle()
check("toggle", out(), 0)
out.high()
check("high", out.value(), 1)
out.low()
check("low", out.value(), 0)
sig = Signal(Pin(16, Pin.OUT), invert=True)
sig.on()
check("inverted signal", Pin(16).value(), 0)
check("unique_id", binascii.hexlify(machine.unique_id()), b"0102030405060708")
check("reset_cause", machine.reset_cause(), machine.PWRON_RESET)
check("freq", machine.freq(), 150000000)
machine.idle()
print("ALL OK" if not failures else "%d FAILED" % len(failures))
