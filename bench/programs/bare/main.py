# The baseline of bench/node_memory.py: a bare program that only imports umqtt.simple and connects to
# the broker, then stays connected (a ping every few seconds) until stopped. It prints what the node
# prints: the free heap after a collection, at boot (after the import), after connecting, and then once
# a second with the heap taken since the previous collection (alloc=), as the node's logger does.
# Usage: micropython main.py HOST PORT   (on the virtual board, its lib/ holding umqtt as .py or .mpy)
import gc
import sys
import time

from umqtt.simple import MQTTClient


def free():
    gc.collect()
    return gc.mem_free()


print("bare: boot free=%d" % free())
client = MQTTClient("bare-%d" % (time.ticks_ms() & 0xFFFF), sys.argv[1], int(sys.argv[2]), keepalive=30)
client.connect()
print("bare: connected free=%d" % free())
gc.collect()
held = gc.mem_alloc()
n = 0
while True:
    time.sleep(1)
    n += 1
    if n % 10 == 0:
        client.ping()
        client.check_msg()      # takes the PINGRESP
    taken = gc.mem_alloc() - held
    f = free()
    held = gc.mem_alloc()
    print("bare: free=%d alloc=%d" % (f, taken))
