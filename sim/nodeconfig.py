"""The node's configuration for one virtual-board run, without editing node/config.py: the
text of a `config_local.py` (which node/config.py star-imports at its end) from the
--broker, --id, --ca and --set options, and of a `secrets.py` from --user and its password.
Pure functions; the runner writes the files.
"""

import ast

SIM_AP_SSID = "sim-ap"  # sim/board/network.py's access point
PASSWORD_ENV = "PICO_MQTT_PASSWORD"           # the broker password, for `sim node` and `deploy`
WIFI_PASSWORD_ENV = "PICO_WIFI_PASSWORD"
SECRET_KEYS = {"BROKER_PASSWORD": PASSWORD_ENV, "WIFI_PASSWORD": WIFI_PASSWORD_ENV}   # never a --set


def parse_broker(text):
    """(host, port) from 'HOST:PORT' ('[::1]:1883' for an IPv6 address). Raises ValueError."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--broker takes HOST:PORT, e.g. 127.0.0.1:1883, not {text!r}")
    return host.strip("[]"), int(port)


def parse_setting(text):
    """(KEY, value) from 'KEY=VALUE': VALUE is a Python literal (2, 0.5, True, 'x', [1]) or
    else taken as a string. Raises ValueError."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key.isidentifier():
        raise ValueError(f"--set takes KEY=VALUE, e.g. HEARTBEAT_S=2, not {text!r}")
    if key in SECRET_KEYS:
        raise ValueError(f"--set {key}: passwords come from {SECRET_KEYS[key]} or a prompt, never from a flag")
    try:
        value = ast.literal_eval(raw.strip())
    except (ValueError, SyntaxError):
        value = raw
    return key, value


def secrets(user, password):
    """The text of the run's secrets.py (node/config.py reads it): the broker's user and password."""
    return ("# Written by the virtual board (python -m sim node) for one run. A password: keep it here only.\n"
            f"BROKER_USER = {user!r}\nBROKER_PASSWORD = {password!r}\n")


def config_local(broker=None, device_id=None, settings=(), ca=None):
    """The text of config_local.py. `broker` is 'HOST:PORT', `settings` (KEY, value) pairs;
    later ones win, as they come later in the file. `ca`: the CA file's path (TLS to the broker)."""
    lines = ["# Written by the virtual board (python -m sim node) for one run; overrides config.py.",
             "# The board's path: join the virtual board's access point (WIFI_SSID=None: no Wi-Fi).",
             f"WIFI_SSID = {SIM_AP_SSID!r}"]
    if broker is not None:
        host, port = parse_broker(broker)
        lines += [f"BROKER_HOST = {host!r}", f"BROKER_PORT = {port!r}"]
    if device_id is not None:
        lines.append(f"DEVICE_ID = {device_id!r}")
    if ca is not None:
        lines.append(f"BROKER_CA = {str(ca)!r}")
    for key, value in settings:
        lines.append(f"{key} = {value!r}")
    return "\n".join(lines) + "\n"
