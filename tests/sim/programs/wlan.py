# Brings the Wi-Fi station up and keeps it up, printing every status change; reconnects
# whenever it is not connected, like a node's Wi-Fi task.
import time
import network

wlan = network.WLAN(network.STA_IF)
print("idle", wlan.status(), wlan.isconnected())
network.country("GB")
wlan.active(True)
wlan.config(pm=wlan.PM_NONE, hostname="virtual")
print("mac", len(wlan.config("mac")), "host", network.hostname(), "country", network.country())
wlan.connect("home", "secret")
last = None
while True:
    status = wlan.status()
    if status != last:
        print("status %d connected %s ip %s" % (status, wlan.isconnected(), wlan.ifconfig()[0]))
        last = status
    if status < 0:
        time.sleep_ms(100)
        wlan.connect("home", "secret")
    time.sleep_ms(10)
