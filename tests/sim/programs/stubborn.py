# Ignores Ctrl-C, so only SIGKILL ends it.
import time

print("ready")
while True:
    try:
        time.sleep(0.05)
    except KeyboardInterrupt:
        print("ignoring Ctrl-C")
