"""The command line's grammar: every command of `python -m monitor` and its flags, each value checked as it
is read (a bad one is a usage error: `monitor: ...`, exit 2). What the commands do is `monitor.cli`'s.
"""

from __future__ import annotations

import argparse
from typing import NoReturn

from broker.addresses import port
from monitor import checker, send
from monitor.errors import UsageError
from monitor.mqtt import DEFAULT_BROKER, PASSWORD_ENV, parse_broker


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error raises `UsageError` instead of printing and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _broker(text: str) -> str:
    parse_broker(text)
    return text


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {text!r}")
    return value


def _device(text: str) -> str:
    if not text or any(c in text for c in "/+#"):
        raise argparse.ArgumentTypeError(f"not a device id: {text!r} (no '/', '+' or '#')")
    return text


def _ha_prefix(text: str) -> str:
    if not text or any(c in text for c in "+#") or text.startswith("/") or text.endswith("/"):
        raise argparse.ArgumentTypeError(f"not a discovery prefix: {text!r} (a topic, no '+', '#' or outer '/')")
    return text


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def _fault(text: str) -> tuple[str, float]:
    from monitor.fleet import FAULTS

    kind, sep, rate = text.partition("=")
    if kind not in FAULTS:
        raise argparse.ArgumentTypeError(f"unknown fault {kind!r} (one of: {', '.join(FAULTS)})")
    try:
        value = float(rate) if sep else 0.01
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a rate: {text!r} (KIND=RATE, e.g. lost=0.01)") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"a fault rate is a probability in (0, 1]: {text!r}")
    return kind, value


def _timeouts(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reorder-timeout", type=_seconds, default=checker.REORDER_TIMEOUT, metavar="S",
                   help=f"how long a seq gap stays open before it is lost (default {checker.REORDER_TIMEOUT:g})")
    p.add_argument("--command-timeout", type=_seconds, default=checker.COMMAND_TIMEOUT, metavar="S",
                   help=f"how long a command may wait for its ack (default {checker.COMMAND_TIMEOUT:g})")
    p.add_argument("--max-devices", type=_count, default=checker.MAX_DEVICES, metavar="N",
                   help=f"devices tracked at most; more are counted, not checked (default {checker.MAX_DEVICES})")


def _connection(p: argparse.ArgumentParser) -> None:
    """--user and --tls-ca: for every command that connects to the broker (docs/security.md)."""
    p.add_argument("--user", metavar="NAME", help=f"log in as NAME; the password from {PASSWORD_ENV} or a "
                                                  "prompt")
    p.add_argument("--tls-ca", metavar="FILE", help="speak TLS, and trust only a broker certificate signed by "
                                                    "this CA (PEM) for the host name given in --broker")


def _listening(p: argparse.ArgumentParser) -> None:
    p.add_argument("--broker", type=_broker, default=DEFAULT_BROKER, metavar="HOST:PORT",
                   help=f"the MQTT broker (default {DEFAULT_BROKER})")
    _connection(p)
    p.add_argument("--out", metavar="FILE", help="recording to append to (default recordings/<date-time>.jsonl)")
    p.add_argument("--for", dest="duration", type=_seconds, metavar="SECONDS", help="stop after this long")
    p.add_argument("--reconnect-for", type=_seconds, default=None, metavar="SECONDS",
                   help="after losing the broker, give up if not back within this long (default: never, "
                        "keep reconnecting until Ctrl-C or --for)")
    p.add_argument("--session", metavar="NAME", help="a persistent MQTT session (client id NAME): the broker "
                                                     "keeps messages for it while it is away")
    _timeouts(p)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m monitor", description="Record, watch, check and command Pico nodes over MQTT.")
    sub = parser.add_subparsers(dest="command", required=True,
                                metavar="{record,watch,web,check,send,fleet,plot,devices,forget}")

    p = sub.add_parser("record", help="record every pico/+/# message to a JSON Lines file, checking it live")
    _listening(p)
    p.add_argument("--quiet", action="store_true", help="print nothing per message or finding")

    p = sub.add_parser("watch", help="a live table of every device, recording and checking at the same time")
    _listening(p)
    p.add_argument("--rows", type=_count, metavar="N", help="devices shown at most (default: what fits)")
    p.add_argument("--refresh", type=_seconds, default=0.25, metavar="S", help="redraw period (default 0.25)")

    p = sub.add_parser("web", help="a live dashboard in the browser: a card per device, commands, the log and a "
                                   "timeline; records and checks too")
    _listening(p)
    p.add_argument("--host", default="127.0.0.1", metavar="HOST",
                   help="the address to serve on (default 127.0.0.1; another one only with a token in "
                        "PICO_WEB_TOKEN)")
    p.add_argument("--port", type=port, default=8080, metavar="PORT", help="the port to serve on (default 8080)")

    p = sub.add_parser("check", help="check a recording: lost, duplicate, reordered, inconsistent, ... messages")
    p.add_argument("file", metavar="FILE", help="the recording to check (JSON Lines, as record and watch write)")
    p.add_argument("--json", action="store_true", help="print a machine-readable report")
    p.add_argument("--keep", type=_count, default=1000, metavar="N",
                   help="findings listed per device at most (all are counted; default 1000)")
    _timeouts(p)

    p = sub.add_parser("send", help="send a command to a node and wait for its ack")
    p.add_argument("device", type=_device, metavar="ID", help="the device id (the <id> in pico/<id>/cmd)")
    p.add_argument("--led", choices=("on", "off", "auto"), help="set the LED policy")
    p.add_argument("--mode", choices=("slow", "fast"), help="set the blink mode")
    p.add_argument("--get", action="store_true", help="ask for a fresh snapshot, and print it after the ack")
    p.add_argument("--json", action="store_true", help="with --get: print only the snapshot's JSON, one line")
    p.add_argument("--raw", metavar="TEXT", help="send TEXT verbatim (to try malformed commands)")
    p.add_argument("--ha-forget", action="store_true", help="remove the device from Home Assistant: an empty "
                                                            "retained message on its discovery topic")
    p.add_argument("--ha-prefix", type=_ha_prefix, metavar="PREFIX",
                   help="Home Assistant's discovery prefix, with --ha-forget (default homeassistant)")
    p.add_argument("--broker", type=_broker, default=DEFAULT_BROKER, metavar="HOST:PORT",
                   help=f"the MQTT broker (default {DEFAULT_BROKER})")
    _connection(p)
    p.add_argument("--timeout", type=_seconds, default=send.DEFAULT_TIMEOUT, metavar="S",
                   help=f"how long to wait for the ack (default {send.DEFAULT_TIMEOUT:g})")

    p = sub.add_parser("fleet", help="simulate N devices publishing the protocol, with injected faults")
    p.add_argument("devices", type=_count, metavar="N", help="how many devices to simulate")
    p.add_argument("--broker", type=_broker, default=DEFAULT_BROKER, metavar="HOST:PORT",
                   help=f"the MQTT broker (default {DEFAULT_BROKER})")
    _connection(p)
    p.add_argument("--out", metavar="FILE", help="write a recording instead of publishing (no broker)")
    p.add_argument("--messages", type=_count, default=10_000, metavar="M", help="publish about M messages "
                                                                                  "(default 10000)")
    p.add_argument("--rate", type=float, default=0.0, metavar="R", help="messages per second (default 0: flat out)")
    p.add_argument("--for", dest="duration", type=_seconds, metavar="SECONDS", help="stop after this long")
    p.add_argument("--fault", type=_fault, action="append", default=[], metavar="KIND=RATE",
                   help="inject a fault at RATE per action, e.g. lost=0.01 (repeatable)")
    p.add_argument("--seed", type=int, default=1, metavar="S", help="random seed (default 1)")
    p.add_argument("--prefix", type=_device, default="fleet-", help="device ids are PREFIX00000, ... "
                                                                     "(default fleet-)")
    p.add_argument("--qos", type=int, choices=(0, 1), default=1, help="publish QoS (default 1)")
    p.add_argument("--manifest", metavar="FILE", help="write what was injected, as JSON")

    p = sub.add_parser("plot", help="draw a recording as a timeline per device, with the check's findings on it")
    p.add_argument("file", metavar="RECORDING", help="the recording to draw (JSON Lines, as record and watch write)")
    p.add_argument("--device", type=_device, action="append", default=[], metavar="ID",
                   help="draw this device (repeatable; default: those with findings first)")
    p.add_argument("--max-devices", type=_count, default=12, metavar="N",
                   help="devices drawn at most when none is named (default 12)")
    p.add_argument("-o", "--out", metavar="FILE", help="FILE.html, FILE.svg or FILE.png (default: the recording's "
                                                       "name with .html, beside it)")
    p.add_argument("--reorder-timeout", type=_seconds, default=checker.REORDER_TIMEOUT, metavar="S",
                   help=f"as for check (default {checker.REORDER_TIMEOUT:g})")
    p.add_argument("--command-timeout", type=_seconds, default=checker.COMMAND_TIMEOUT, metavar="S",
                   help=f"as for check (default {checker.COMMAND_TIMEOUT:g})")

    p = sub.add_parser("devices", help="list every device the broker holds a retained status or state for")
    p.add_argument("--broker", type=_broker, default=DEFAULT_BROKER, metavar="HOST:PORT",
                   help=f"the MQTT broker (default {DEFAULT_BROKER})")
    _connection(p)
    p.add_argument("--json", action="store_true", help="print the devices as JSON, with their retained messages")

    p = sub.add_parser("forget", help="clear a device's retained messages and its Home Assistant discovery")
    p.add_argument("device", type=_device, metavar="ID", help="the device id (the <id> in pico/<id>/...)")
    p.add_argument("--force", action="store_true", help="clear them even though its retained status says online")
    p.add_argument("--ha-prefix", type=_ha_prefix, default="homeassistant", metavar="PREFIX",
                   help="Home Assistant's discovery prefix (default homeassistant)")
    p.add_argument("--broker", type=_broker, default=DEFAULT_BROKER, metavar="HOST:PORT",
                   help=f"the MQTT broker (default {DEFAULT_BROKER})")
    _connection(p)
    return parser
