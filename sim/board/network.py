"""The `network` module of the virtual board: the Pico 2 W's Wi-Fi (CYW43) station, simulated.

There is no radio: the program's sockets go through the host's own network. What is simulated
is the link as the program sees it through WLAN:
- The board sees one access point: named SIM_AP_SSID (default "sim-ap"), open, or with the password
  SIM_AP_PASSWORD when that is set. connect() shows STAT_CONNECTING for 0.3 s, then STAT_GOT_IP;
  or STAT_NO_AP_FOUND for another name or while the host holds the link down, STAT_WRONG_PASSWORD for
  a wrong password, or, with env SIM_WIFI_FAIL=-1 say, that status.
- The host takes the link down with `WLAN 0` in pins.in: a connected station then reads
  isconnected() False and status() STAT_CONNECT_FAIL, and stays so after `WLAN 1` until the
  program calls connect() again (as a real Pico W does not rejoin by itself). Open sockets are
  not broken by it.
"""

import os
from micropython import const

import _simboard
import _simbuiltin
import machine

_time = _simbuiltin.load("time")

STA_IF = 0
AP_IF = 1
STAT_IDLE = 0
STAT_CONNECTING = 1
STAT_GOT_IP = 3
STAT_CONNECT_FAIL = -1
STAT_NO_AP_FOUND = -2
STAT_WRONG_PASSWORD = -3
_CONNECT_MS = const(300)
# Private names are few and const() where they can be: each name the board's modules hold is one
# more entry in the interpreter's table of names, which the node fills too, and which grows by
# doubling (7 KB at once at the size the node reaches).

_settings = {"country": "XX", "hostname": "PicoW"}


def _link_up():
    return _simboard.driven().get("WLAN", 1) == 1


def country(*cc):
    if cc:
        _settings["country"] = cc[0]
        return None
    return _settings["country"]


def hostname(*name):
    if name:
        _settings["hostname"] = name[0]
        return None
    return _settings["hostname"]


class _Iface:
    """The state of one interface, shared by every WLAN object made for it."""

    def __init__(self, n):
        self.active = False
        self.ssid = None  # what connect() was last given; None when not joining
        self.start = 0  # ticks_ms when connect() was called
        self.status = None  # the status the attempt ended in, once it has
        self.key = None  # the password connect() was given
        self.config = {"ssid": "", "pm": WLAN.PM_PERFORMANCE, "channel": 1, "txpower": 31, "security": 0,
                       "mac": b"\x28\xcd\xc1" + machine.unique_id()[-3:] if n == STA_IF
                       else b"\x2a\xcd\xc1" + machine.unique_id()[-3:]}


_ifaces = {}


class WLAN:
    IF_STA = STA_IF
    IF_AP = AP_IF
    PM_NONE = 16  # cyw43 values
    PM_PERFORMANCE = 10555714
    PM_POWERSAVE = 17

    def __init__(self, id=STA_IF):
        if id not in (STA_IF, AP_IF):
            raise ValueError("invalid interface")
        if id not in _ifaces:
            _ifaces[id] = _Iface(id)
        self._i = _ifaces[id]

    def active(self, *is_active):
        i = self._i
        if not is_active:
            return i.active
        i.active = bool(is_active[0])
        if not i.active:
            i.ssid = None
        return None

    def connect(self, ssid=None, key=None, *, bssid=None, security=None):
        i = self._i
        if not i.active:
            raise OSError(1)  # EPERM, as the CYW43 driver answers on an inactive interface
        i.ssid = ssid if ssid is not None else ""
        i.key = key
        i.config["ssid"] = i.ssid
        i.start = _time.ticks_ms()
        i.status = None

    def disconnect(self):
        self._i.ssid = None

    def status(self, *param):
        if param:
            if param[0] == "rssi":
                return -50 if self.status() == STAT_GOT_IP else 0
            raise ValueError("unknown status param")
        i = self._i
        if not i.active or i.ssid is None:
            return STAT_IDLE
        if i.status is None:
            if _time.ticks_diff(_time.ticks_ms(), i.start) < _CONNECT_MS:
                return STAT_CONNECTING
            fail = os.getenv("SIM_WIFI_FAIL")
            password = os.getenv("SIM_AP_PASSWORD")
            if fail:
                i.status = int(fail)
            elif not _link_up() or i.ssid != (os.getenv("SIM_AP_SSID") or "sim-ap"):
                i.status = STAT_NO_AP_FOUND
            elif password and i.key != password:
                i.status = STAT_WRONG_PASSWORD
            else:
                i.status = STAT_GOT_IP
        if i.status == STAT_GOT_IP and not _link_up():
            i.status = STAT_CONNECT_FAIL  # the link dropped; only connect() starts again
        return i.status

    def isconnected(self):
        return self.status() == STAT_GOT_IP

    def ifconfig(self, *cfg):
        if cfg:
            return None
        if self.isconnected():
            return ("127.0.0.1", "255.0.0.0", "127.0.0.1", "127.0.0.1")
        return ("0.0.0.0",) * 4

    def ipconfig(self, *param, **kw):
        if param and param[0] == "addr4":
            return ("127.0.0.1", "255.0.0.0") if self.isconnected() else ("0.0.0.0", "0.0.0.0")
        return None

    def config(self, *param, **kw):
        i = self._i
        if param:
            name = param[0]
            if name == "hostname":
                return hostname()
            if name in i.config:
                return i.config[name]
            raise ValueError("unknown config param")
        for name in kw:
            if name == "hostname":
                hostname(kw[name])
            else:
                i.config[name] = kw[name]
        return None

    def scan(self):
        return []
