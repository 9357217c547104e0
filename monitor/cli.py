"""The command line: `python -m monitor record|check|send ...`, one small `do_<command>` handler each.

Errors are printed as `monitor: <message>` on stderr. Exit status: 2 for usage errors (and, for `send`,
for no ack or no broker), 1 for a failed check / rejected command / unreachable broker while recording,
0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import NoReturn

from monitor import checker, command, recording, report, summary
from monitor.errors import AckTimeout, BrokerError, MonitorError, RecordingError, UsageError
from monitor.mqtt import DEFAULT_BROKER, parse_broker
from monitor.record import Record
from monitor.subscriber import Subscriber


def say(message: str) -> None:
    """One `monitor: ...` line on stderr."""
    print(f"monitor: {message}", file=sys.stderr, flush=True)


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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m monitor", description="Record, check and command Pico nodes over MQTT.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{record,check,send}")

    p = sub.add_parser("record", help="record every pico/+/# message to a JSON Lines file")
    p.add_argument("--broker", type=_broker, default=DEFAULT_BROKER, metavar="HOST:PORT",
                   help=f"the MQTT broker (default {DEFAULT_BROKER})")
    p.add_argument("--out", metavar="FILE", help="recording to append to (default recordings/<date-time>.jsonl)")
    p.add_argument("--for", dest="duration", type=_seconds, metavar="SECONDS", help="stop after this long")
    p.add_argument("--quiet", action="store_true", help="do not print a line per message")
    p.add_argument("--reconnect-for", type=_seconds, default=10.0, metavar="SECONDS",
                   help="after losing the broker, give up if not back within this long (default 10)")

    p = sub.add_parser("check", help="check a recording: lost, duplicate, out-of-order, inconsistent messages")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--json", action="store_true", help="print a machine-readable report")

    p = sub.add_parser("send", help="send a command to a node and wait for its ack")
    p.add_argument("device", type=_device, metavar="ID", help="the device id (the <id> in pico/<id>/cmd)")
    p.add_argument("--led", choices=("on", "off", "auto"), help="set the LED policy")
    p.add_argument("--mode", choices=("slow", "fast"), help="set the blink mode")
    p.add_argument("--get", action="store_true", help="ask for a fresh snapshot")
    p.add_argument("--raw", metavar="TEXT", help="send TEXT verbatim (to try malformed commands)")
    p.add_argument("--broker", type=_broker, default=DEFAULT_BROKER, metavar="HOST:PORT",
                   help=f"the MQTT broker (default {DEFAULT_BROKER})")
    p.add_argument("--timeout", type=_seconds, default=command.DEFAULT_TIMEOUT, metavar="S",
                   help=f"how long to wait for the ack (default {command.DEFAULT_TIMEOUT:g})")
    return parser


def _printer() -> Callable[[Record], None]:
    broken = False

    def show(record: Record) -> None:
        nonlocal broken
        if broken:
            return
        try:
            print(summary.line(record), flush=True)
        except (OSError, ValueError):
            broken = True  # stdout went away (a closed pipe): keep recording

    return show


def do_record(args: argparse.Namespace) -> int:
    path = Path(args.out) if args.out else recording.default_path()
    existed = path.exists()
    writer = recording.Writer(path)
    show = None if args.quiet else _printer()

    def sink(record: Record) -> None:
        writer.write(record)
        if show is not None:
            show(record)

    subscribed = False

    def announce() -> None:
        nonlocal subscribed
        subscribed = True
        say(f"recording {path}")

    sub = Subscriber(args.broker, sink, reconnect_for=args.reconnect_for, notice=say)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        sub.stop()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    status, ended = 0, ""
    try:
        ended = sub.run(args.duration, on_subscribed=announce)
    except MonitorError as exc:
        say(str(exc))
        status = 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        writer.close()
    if not subscribed and not existed and writer.count == 0:
        path.unlink(missing_ok=True)
        return status
    say(f"recorded {writer.count} message{'' if writer.count == 1 else 's'} to {path}"
        + (f" ({ended})" if ended else ""))
    return status


def do_check(args: argparse.Namespace) -> int:
    try:
        items = recording.read(args.file)
    except RecordingError as exc:
        raise UsageError(str(exc)) from None
    result = checker.check(items)
    render = report.json_text if args.json else report.text
    sys.stdout.write(render(result, args.file))
    return 0 if result.ok else 1


def do_send(args: argparse.Namespace) -> int:
    fields: dict[str, object] = {}
    if args.led is not None:
        fields["led"] = args.led
    if args.mode is not None:
        fields["mode"] = args.mode
    if args.get:
        fields["get"] = True
    if args.raw is not None and fields:
        raise UsageError("--raw cannot be combined with --led, --mode or --get")
    if args.raw is None and not fields:
        raise UsageError("nothing to send: give --led, --mode, --get or --raw")
    try:
        if args.raw is not None:
            ack = command.send(args.broker, args.device, raw=args.raw, timeout=args.timeout)
        else:
            ack = command.send(args.broker, args.device, fields, timeout=args.timeout)
    except (BrokerError, AckTimeout) as exc:
        say(str(exc))
        return 2
    print(json.dumps(ack.payload), flush=True)
    say(f"ack from {args.device} in {ack.rtt_ms:.1f} ms")
    if not ack.ok:
        say(f"rejected: {ack.error}")
        return 1
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "record": do_record,
    "check": do_check,
    "send": do_send,
}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except UsageError as exc:
        say(str(exc))
        return 2
    except MonitorError as exc:
        say(str(exc))
        return 1
