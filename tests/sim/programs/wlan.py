# Brings the Wi-Fi station up and keeps it up, printing every status change; reconnects
# whenever it is not connected, like a node's Wi-Fi task. Arguments: SSID (default the virtual board's
# access point, sim-ap) and password.
import sys
import time
import network

ssid = sys.argv[1] if len(sys.argv) > 1 else "sim-ap"
key = sys.argv[2] if len(sys.argv) > 2 else "secret"

wlan = network.WLAN(network.STA_IF)
print("idle", wlan.status(), wlan.isconnected())
network.country("GB")
wlan.active(True)
wlan.config(pm=wlan.PM_NONE, hostname="virtual")
print("mac", len(wlan.config("mac")), "host", network.hostname(), "country", network.country())
wlan.connect(ssid, key)
last = None
while True:
    status = wlan.status()
    if status != last:
        print("status %d connected %s ip %s" % (status, wlan.isconnected(), wlan.ifconfig()[0]))
        last = status
    if status < 0:
        time.sleep_ms(100)
        wlan.connect(ssid, key)
    time.sleep_ms(10)
