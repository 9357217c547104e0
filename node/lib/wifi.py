"""Wi-Fi station bring-up with a deadline, with the WLAN status codes said in words."""

import asyncio

from clock import uptime_ms

STATUS_WORDS = {
    0: "idle",
    1: "connecting",
    2: "connected, waiting for an address",
    3: "got an address",
    -1: "connection failed",
    -2: "no access point found with that name",
    -3: "wrong password",
}


class WifiError(Exception):
    pass


async def connect(cfg, log, beat=None):
    import network  # only here: a node without Wi-Fi settings never needs it

    if cfg.WIFI_COUNTRY:
        network.country(cfg.WIFI_COUNTRY)
    wlan = network.WLAN(network.STA_IF)
    wlan.active(True)
    if not cfg.WIFI_POWER_SAVE:
        wlan.config(pm=0xA11140)    # power saving off, the value Raspberry Pi's own guide uses
    if wlan.isconnected():
        return wlan
    wlan.connect(cfg.WIFI_SSID, cfg.WIFI_PASSWORD)
    start = uptime_ms()
    while True:
        status = wlan.status()
        if status == 3:
            log("wifi", "connected to %s, address %s" % (cfg.WIFI_SSID, wlan.ifconfig()[0]))
            return wlan
        if status < 0:
            raise WifiError("%s (status %d)" % (STATUS_WORDS.get(status, "unknown"), status))
        if uptime_ms() - start > cfg.WIFI_CONNECT_TIMEOUT_S * 1000:
            wlan.disconnect()
            raise WifiError("no connection after %d s (status %d: %s)"
                            % (cfg.WIFI_CONNECT_TIMEOUT_S, status, STATUS_WORDS.get(status, "unknown")))
        if beat:
            beat()
        await asyncio.sleep_ms(200)
