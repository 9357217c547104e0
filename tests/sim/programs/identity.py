# Lesson: which board is this?
import os
import sys
import machine

print(os.uname())
print("machine", os.uname().machine)
print("freq", machine.freq())
machine.freq(200_000_000)
print("overclocked", machine.freq())
try:
    machine.freq(123_456_789)
except ValueError as e:
    print("refused", e)
print("platform", sys.platform)
