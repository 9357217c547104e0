"""The node: builds every part once, starts every task, and stops cleanly.

Who owns what: each button pin belongs to its poller task, the LED pin to the LED task, the on-board
LED to the heartbeat, the ADC to the sensor task, the WDT to the watchdog, the MQTT client to the link, the state to `Shared`
(behind its lock), the inbox's consumer side to the command owner.
"""

import asyncio
import gc
import os
import random
import sys

import machine
from ubinascii import hexlify

from backoff import Backoff
from buttons import run_button
from command_owner import run_command_owner
from inbox import Inbox
from led import run_heartbeat, run_led
from link import Link, discovery_messages
from log import log
from logger import run_logger
from outbox import Outbox
from progress import Progress
from publisher import run_publisher
from sensor import run_sensor
from shared import Shared
from watchdog import run_watchdog


async def _supervise(name, make):
    # A bug in one task must not silently take one of the node's functions away: log it and restart.
    while True:
        try:
            await make()
        except Exception as e:  # the supervisor boundary: anything a task let escape
            log("app", "task %s crashed: %r; restarting in 1 s" % (name, e))
            sys.print_exception(e)
        await asyncio.sleep_ms(1000)


class Node:
    def __init__(self, cfg):
        self.cfg = cfg
        self.device_id = cfg.DEVICE_ID or "pico-" + hexlify(machine.unique_id()).decode()
        self.boot = "%08x" % int.from_bytes(os.urandom(4), "big")
        # First, while the heap is still in one piece: building it wants a few KB at once (link.py).
        ha = discovery_messages(cfg, self.device_id)
        wake = asyncio.Event()
        self.inbox = Inbox(cfg.INBOX_SIZE)
        self.outbox = Outbox(cfg.OUTBOX_SIZE, wake.set)
        self.shared = Shared(self.outbox, self.inbox)
        self.link = Link(cfg, self.device_id, self.boot, self.outbox, self.inbox, wake, ha)
        self.link.on_up = self.shared.changed.set   # a fresh snapshot after every connect
        # The network's longest honest wait is a connect step (SOCKET_TIMEOUT_S); the others beat within
        # a second (see watchdog.py).
        self.progress = Progress(("button-a", "button-b", "logger", "network"),
                                 {"network": cfg.SOCKET_TIMEOUT_S + 3})
        self.link.beat = lambda: self.progress.beat("network")

    async def _network(self):
        cfg = self.cfg
        if not cfg.WIFI_SSID:
            await self.link.run()   # the network is up already (the virtual board)
            return
        from wifi import STATUS_WORDS, WifiError, connect

        backoff = Backoff(cfg.RECONNECT_MIN_MS, cfg.RECONNECT_MAX_MS, lambda: random.getrandbits(16) / 65536)
        beat = self.link.beat
        while True:
            try:
                wlan = await connect(cfg, log, beat)
            except WifiError as e:
                wait = backoff.next()
                log("wifi", "%s; retrying in %d ms" % (e, wait))
                await self.link.pause(wait)
                continue
            backoff.reset()
            gc.collect()
            log("app", "free heap with Wi-Fi up: %d bytes" % gc.mem_free())
            # Supervised like every task: whatever the link lets escape is logged and it starts again.
            link = asyncio.create_task(_supervise("link", self.link.run))
            try:
                while wlan.isconnected():
                    await asyncio.sleep_ms(cfg.WIFI_CHECK_MS)
                status = wlan.status()
                log("wifi", "link lost (status %d: %s)" % (status, STATUS_WORDS.get(status, "unknown")))
            finally:
                link.cancel()   # closes the MQTT connection; its outbox waits for the next one
            await asyncio.sleep_ms(0)

    async def main(self):
        cfg = self.cfg
        Pin = machine.Pin
        gc.collect()    # the free heap logged is what is left, not what garbage happens to hide
        log("app", "device %s, boot %s, firmware %s, free heap %d bytes"
            % (self.device_id, self.boot, cfg.FIRMWARE, gc.mem_free()))
        button_a = Pin(cfg.PIN_BUTTON_A, Pin.IN, Pin.PULL_UP)
        button_b = Pin(cfg.PIN_BUTTON_B, Pin.IN, Pin.PULL_UP)
        led = Pin(cfg.PIN_LED, Pin.OUT, value=0)
        heartbeat = Pin(cfg.PIN_HEARTBEAT, Pin.OUT, value=0)
        adc = machine.ADC(cfg.ADC_TEMP)
        s = self.shared
        p = self.progress
        tasks = [
            ("button-a", lambda: run_button(s, "a", button_a, cfg.DEBOUNCE_MS, cfg.POLL_MS, p)),
            ("button-b", lambda: run_button(s, "b", button_b, cfg.DEBOUNCE_MS, cfg.POLL_MS, p)),
            ("led", lambda: run_led(s, led, cfg.SLOW_PERIOD_MS, cfg.FAST_PERIOD_MS)),
            ("heartbeat", lambda: run_heartbeat(heartbeat)),
            ("sensor", lambda: run_sensor(s, adc, cfg.SENSOR_S)),
            ("logger", lambda: run_logger(s, self.link, cfg.LOG_S, p)),
            ("publisher", lambda: run_publisher(s, cfg.HEARTBEAT_S * 1000, cfg.SNAPSHOT_GAP_MS)),
            ("commands", lambda: run_command_owner(s, cfg.MAX_COMMAND_BYTES)),
            ("network", self._network),
        ]
        if cfg.WDT_TIMEOUT_MS:
            wdt = machine.WDT(timeout=cfg.WDT_TIMEOUT_MS)
            tasks.append(("watchdog", lambda: run_watchdog(p, wdt)))
        await asyncio.gather(*[_supervise(name, make) for name, make in tasks])

    def stop(self):
        self.link.stop()


def run(cfg):
    node = Node(cfg)
    try:
        asyncio.run(node.main())
    except KeyboardInterrupt:
        log("app", "stopping: going offline")
    finally:
        node.stop()
        asyncio.new_event_loop()
