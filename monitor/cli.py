"""The command line: `python -m monitor record|watch|web|check|send|fleet|plot|devices|forget ...`, one small
`do_<command>` handler each (the flags and their checks: `monitor.arguments`).

Errors are printed as `monitor: <message>` on stderr. Exit status: 2 for usage errors (and, for `send`,
`devices` and `forget`, for no answer or no broker; `forget` of a device that is online), 1 for a failed
check / rejected command / unreachable broker while recording / a topic the broker kept, 0 otherwise.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import TypeVar

from monitor import checker, message_line, recording, report, send
from monitor.arguments import build_parser
from monitor.errors import AckTimeout, BrokerError, MonitorError, RecordingError, Refused, UsageError
from monitor.findings import Finding
from monitor.live.session import Session, tally_text
from monitor.mqtt import PASSWORD_ENV, Security
from monitor.record import Record
from monitor.text import printable, printable_json

T = TypeVar("T")

TURN_S = 0.1
"""The longest `record`/`watch` wait for the receiver before looking around (a stop asked by a signal)."""


def say(message: str) -> None:
    """One `monitor: ...` line on stderr (`printable()`: messages quote what nodes and brokers sent)."""
    print(f"monitor: {printable(message)}", file=sys.stderr, flush=True)


def security(args: argparse.Namespace) -> Security:
    """The login the flags ask for: the password from PICO_MQTT_PASSWORD, or asked without echo."""
    if args.tls_ca is not None and not os.access(args.tls_ca, os.R_OK):
        raise UsageError(f"cannot read {args.tls_ca} (--tls-ca)")
    password = None
    if args.user is not None:
        password = os.environ.get(PASSWORD_ENV)
        if password is None:
            if not sys.stdin.isatty():
                raise UsageError(f"--user {args.user}: no password: set {PASSWORD_ENV} or run at a terminal")
            try:
                password = getpass.getpass(f"password for {args.user}: ")
            except (EOFError, KeyboardInterrupt):
                raise UsageError("no password given") from None
    return Security(user=args.user, password=password, tls_ca=args.tls_ca)


def _printer(render: Callable[[T], str]) -> Callable[[T], None]:
    """Prints `render(item)` for each item, as one line on stdout; once stdout is gone (a closed pipe),
    nothing more (the recording goes on)."""
    broken = False

    def show(item: T) -> None:
        nonlocal broken
        if broken:
            return
        try:
            print(render(item), flush=True)
        except (OSError, ValueError):
            broken = True

    return show


def _live(args: argparse.Namespace, *, on_record: Callable[[Record], None] | None = None,
          on_finding: Callable[[Finding], None] | None = None,
          on_subscribed: Callable[[], None] | None = None) -> tuple[Session, bool]:
    path = Path(args.out) if args.out else recording.default_path()
    session = Session(path, args.broker, session=args.session, duration=args.duration,
                      reconnect_for=args.reconnect_for, reorder_timeout=args.reorder_timeout,
                      command_timeout=args.command_timeout, on_record=on_record, on_finding=on_finding,
                      on_subscribed=on_subscribed, notice=say, max_devices=args.max_devices,
                      view=args.command in ("watch", "web"), security=security(args))
    return session, path.exists()


def _run(session: Session, turn: Callable[[], None] | None = None) -> None:
    """Run `session` until it ends (Ctrl-C, SIGTERM, `--for`, a failure), calling `turn()` between looks."""

    def on_signal(signum: int, frame: FrameType | None) -> None:
        session.stop()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        session.start()
        while session.poll(TURN_S):
            if turn is not None:
                turn()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _closing(session: Session, existed: bool) -> int:
    """The closing lines on stderr (and no file left when nothing was ever recorded); the exit status."""
    status = 0
    if session.failure is not None:
        say(session.failure)
        status = 1
    path, count = session.path, session.count
    if not session.subscribed and not existed and count == 0:
        path.unlink(missing_ok=True)
        return status
    tally = session.tally()
    errors = sum(e for _, e in tally.values())
    lag = f"; each message within {session.lag * 1000:.0f} ms of its arrival" if count else ""
    say(f"checked live: {tally_text(tally)}" + (f" ({errors} error{'' if errors == 1 else 's'})" if errors else "")
        + lag)
    ended = f" ({session.ended})" if session.ended else ""
    say(f"recorded {count} message{'' if count == 1 else 's'} to {path}{ended}")
    return status


def do_record(args: argparse.Namespace) -> int:
    show = None if args.quiet else _printer(message_line.line)
    found = None if args.quiet else _printer(report.finding_line)
    session, existed = _live(args, on_record=show, on_finding=found,
                             on_subscribed=lambda: say(f"recording {session.path}"))
    _run(session)
    return _closing(session, existed)


def do_watch(args: argparse.Namespace) -> int:
    from monitor.live.commands import Commands
    from monitor.live.keys import Keys
    from monitor.live.watch import Watch

    watch = Watch(rows=args.rows, refresh=args.refresh, keys=Keys())
    session, existed = _live(args, on_subscribed=watch.on_subscribed)
    watch.commands = Commands(args.broker, security=session.security)  # the keys' commands, as `send` sends
    watch.run(session, lambda turn: _run(session, turn))
    return _closing(session, existed)  # after the screen is left: on stderr, not in the view


def do_web(args: argparse.Namespace) -> int:
    from monitor.web.feed import Feed
    from monitor.web.run import serve, token_for
    from monitor.web.store import Store

    token = token_for(args.host)  # (before anything starts: a refusal is one line and exit 2)
    feed = Feed(Store())
    session, existed = _live(args, on_record=feed.on_record, on_finding=feed.on_finding,
                             on_subscribed=feed.on_subscribed)
    serve(session, feed, args.host, args.port, args.broker, token=token, say=say)
    return _closing(session, existed)


def do_fleet(args: argparse.Namespace) -> int:
    from monitor.fleet import Fleet
    from monitor.fleet_publish import publish, write

    fleet = Fleet(args.devices, seed=args.seed, faults=dict(args.fault), prefix=args.prefix)
    cleared = ""
    if args.out:
        count = write(fleet, args.out, args.messages, rate=args.rate)
        where = args.out
    else:
        login = security(args)

        def on_term(signum: int, frame: FrameType | None) -> None:
            raise KeyboardInterrupt  # SIGTERM stops it as Ctrl-C does: its retained messages cleared

        previous = signal.signal(signal.SIGTERM, on_term)
        try:
            done = publish(fleet, args.broker, args.messages, rate=args.rate, duration=args.duration,
                           qos=args.qos, notice=say, security=login)
        finally:
            signal.signal(signal.SIGTERM, previous)
        count, where = done.count, args.broker
        cleared = ("; stopped, and cleared" if done.interrupted else "; cleared") + \
            f" the {done.cleared} retained message(s) it left"
    if args.manifest:
        try:
            Path(args.manifest).write_text(json.dumps(fleet.manifest(), indent=1) + "\n")
        except OSError as exc:
            raise UsageError(f"cannot write {args.manifest}: {exc.strerror or exc}") from None
    say(f"fleet: {args.devices} device(s), {count} messages to {where}, "
        f"{len(fleet.injected)} fault(s) injected{cleared}")
    return 0


def do_check(args: argparse.Namespace) -> int:
    try:
        result = checker.check(recording.iter_items(args.file), reorder_timeout=args.reorder_timeout,
                               command_timeout=args.command_timeout, keep=args.keep, max_devices=args.max_devices)
    except RecordingError as exc:
        raise UsageError(str(exc)) from None
    render = report.json_text if args.json else report.text
    sys.stdout.write(render(result, args.file))
    if recording.disk_full(args.file):
        say(f"note: the disk holding {args.file} is full: its recorder may have stopped there")
    return 0 if report.trusted(result) else 1  # (no device messages at all: nothing to trust)


class Exit(Exception):
    """Ends a command with one `monitor: ...` line and this exit status (`main` says it)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _asking(call: Callable[[], T]) -> T:
    """`call()`, a question to the broker or a node (`send`, `devices`, `forget`): a refusal (login, ACL,
    TLS) ends the command with exit 1, like a rejected command; no broker or no answer with exit 2."""
    try:
        return call()
    except Refused as exc:
        raise Exit(str(exc), 1) from None
    except (BrokerError, AckTimeout) as exc:
        raise Exit(str(exc), 2) from None


def do_send(args: argparse.Namespace) -> int:
    fields: dict[str, object] = {}
    if args.led is not None:
        fields["led"] = args.led
    if args.mode is not None:
        fields["mode"] = args.mode
    if args.get:
        fields["get"] = True
    if args.ha_forget:
        return _ha_forget(args, fields)
    if args.ha_prefix is not None:
        raise UsageError("--ha-prefix goes with --ha-forget")
    if args.raw is not None and fields:
        raise UsageError("--raw cannot be combined with --led, --mode or --get")
    if args.raw is None and not fields:
        raise UsageError("nothing to send: give --led, --mode, --get or --raw")
    if args.json and not args.get:
        raise UsageError("--json goes with --get (it prints the snapshot)")
    login = security(args)
    if args.raw is not None:
        ack = _asking(lambda: send.send(args.broker, args.device, raw=args.raw, timeout=args.timeout,
                                        security=login))
    else:
        ack = _asking(lambda: send.send(args.broker, args.device, fields, timeout=args.timeout, security=login,
                                        snapshot=args.get))
    if not args.json:  # with --json, stdout is the snapshot alone
        print(printable_json(json.dumps(ack.payload)), flush=True)
    say(f"ack from {args.device} in {ack.rtt_ms:.1f} ms")
    if not ack.ok:
        say(f"rejected: {ack.error}")
        return 1
    if args.get:
        return _snapshot(args, ack)
    return 0


def _snapshot(args: argparse.Namespace, ack: send.Ack) -> int:
    """`send --get`: the snapshot that answered, readable or (`--json`) as received; none is no answer (2)."""
    from monitor import snapshot_text

    if ack.snapshot is None:
        say(f"no snapshot from {args.device} within {args.timeout:g} s (its ack came)")
        return 2
    if args.json:
        print(snapshot_text.json_line(ack.snapshot.payload), flush=True)
    else:
        body = json.loads(ack.snapshot.payload)
        print("\n".join(snapshot_text.lines(body)), flush=True)
    return 0


def do_devices(args: argparse.Namespace) -> int:
    from monitor import devices

    login = security(args)
    found, complete = _asking(lambda: devices.devices(args.broker, security=login))
    if not complete:
        say("retained messages kept coming until the deadline: the list may be incomplete")
    if args.json:
        sys.stdout.write(printable_json(devices.json_text(found)))
    elif found:
        sys.stdout.write(devices.table(found))
    if not found and not args.json:
        say(f"no devices: the broker at {args.broker} holds no retained status or state under pico/")
    return 0


def do_forget(args: argparse.Namespace) -> int:
    from monitor.forget import DeviceOnline, forget

    login = security(args)
    try:
        done = _asking(lambda: forget(args.broker, args.device, args.ha_prefix, force=args.force, security=login))
    except DeviceOnline as exc:
        raise Exit(str(exc), 2) from None
    for topic in done.cleared:
        print(printable(f"cleared {topic}"), flush=True)
    for topic in done.kept:
        say(f"the broker kept {topic} (does its ACL let this user publish there?)")
    if not done.cleared and not done.kept:
        say(f"the broker holds nothing retained for {args.device}")
        return 0
    n = len(done.cleared)
    say(f"forgot {args.device}: {n} retained message{'' if n == 1 else 's'} cleared"
        + (f", {len(done.kept)} kept" if done.kept else ""))
    return 1 if done.kept else 0


def _ha_forget(args: argparse.Namespace, fields: dict[str, object]) -> int:
    if fields or args.raw is not None:
        raise UsageError("--ha-forget cannot be combined with --led, --mode, --get or --raw")
    login = security(args)
    try:
        topic = send.ha_forget(args.broker, args.device, args.ha_prefix or "homeassistant",
                                  timeout=args.timeout, security=login)
    except Refused as exc:
        say(str(exc))
        return 1
    except BrokerError as exc:
        say(str(exc))
        return 2
    say(f"{args.device} removed from Home Assistant: an empty retained message on {topic}")
    return 0


def do_plot(args: argparse.Namespace) -> int:
    from monitor.plot.run import plot

    path, tl = plot(args.file, args.out, args.device, args.max_devices, reorder_timeout=args.reorder_timeout,
                    command_timeout=args.command_timeout)
    errors = sum(d.errors for d in tl.devices) + sum(m.error for m in tl.other)
    say(f"timeline of {len(tl.devices)} of {tl.total_devices} device(s)"
        + (f", {errors} error finding(s) drawn" if errors else ", no error findings") + f": {path}")
    print(path, flush=True)
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "record": do_record,
    "watch": do_watch,
    "web": do_web,
    "check": do_check,
    "send": do_send,
    "fleet": do_fleet,
    "plot": do_plot,
    "devices": do_devices,
    "forget": do_forget,
}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except Exit as exc:
        say(str(exc))
        return exc.status
    except UsageError as exc:
        say(str(exc))
        return 2
    except MonitorError as exc:
        say(str(exc))
        return 1
