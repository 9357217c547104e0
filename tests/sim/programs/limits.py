# Reaches for what the board does not simulate, named by argv[1]; a program's `except Exception`
# must not hide it.
import sys

print("before")
try:
    if sys.argv[1] == "thread":
        import _thread

        _thread.start_new_thread(print, ("second core",))
    elif sys.argv[1] == "bluetooth":
        import bluetooth
    elif sys.argv[1] == "uart":
        from machine import UART

        UART(0, 9600)
    elif sys.argv[1] == "statemachine":
        from rp2 import StateMachine
except Exception as e:
    print("caught", e)
print("after")
