# Runs until stopped; its finally block shows a stop lets it clean up.
import time

print("ready")
try:
    while True:
        time.sleep(0.05)
finally:
    print("cleanup ran")
