"""The `python -m sim` command line: run a program or the node on the virtual board, drive and
read a running board's pins, and set up what the board needs.

Errors are printed as `sim: message` on stderr; usage errors exit with status 2, problems of
the set-up with 1; a run exits with the program's own status.
"""

import argparse
import signal
import sys

from sim import deps, nodeconfig, runner
from sim.errors import SimError
from sim.pins import Board


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def _positive_seconds(text):
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"--for takes a number of seconds > 0, not {text!r}")
    return value


def _add_run_options(p):
    p.add_argument("--for", dest="for_s", type=_positive_seconds, metavar="SECONDS",
                   help="stop the program cleanly (as Ctrl-C) after SECONDS")
    p.add_argument("--press", action="append", default=[], metavar="PIN@START[:HOLD]",
                   help="hold PIN low from START for HOLD s (default 0.2), e.g. 14@1.0:0.3; "
                        "repeat or separate with commas")
    p.add_argument("--trace", action="store_true",
                   help="print 'TRACE <t> <pin> <level>' on stdout at every output change")
    p.add_argument("--board", metavar="DIR",
                   help="the board directory (default: a fresh temporary one)")


def build_parser():
    parser = _Parser(prog="python -m sim", description="The virtual Pico 2 W board.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("run", help="run a MicroPython program on the virtual board")
    p.add_argument("file", metavar="FILE.py")
    p.add_argument("args", nargs="*", metavar="ARG", help="arguments for the program (sys.argv)")
    _add_run_options(p)

    p = sub.add_parser("node", help="run the node firmware (node/main.py) on the virtual board")
    p.add_argument("--broker", metavar="HOST:PORT", help="the MQTT broker to use")
    p.add_argument("--id", dest="device_id", metavar="ID", help="the device id")
    p.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                   help="override a node/config.py setting (VALUE a Python literal, else text)")
    _add_run_options(p)

    p = sub.add_parser("pins", help="show or drive the pins of a running board")
    p.add_argument("--board", required=True, metavar="DIR")
    p.add_argument("assignments", nargs="*", metavar="NAME=VALUE",
                   help="drive inputs: GP14=0, ADC4=14000, TEMP=30.5, WLAN=0")
    p.add_argument("--release", action="append", default=[], metavar="NAME",
                   help="stop driving an input")

    sub.add_parser("setup", help="install what the virtual board needs (umqtt.simple)")
    return parser


def main(argv=None):
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except UsageError as e:
        print(f"sim: {e}", file=sys.stderr)
        return 2
    except SimError as e:
        print(f"sim: {e}", file=sys.stderr)
        return 1


def cmd_run(args):
    return _run_until_done(args, lambda **kw: runner.start(args.file, *args.args, **kw))


def cmd_node(args):
    try:
        if args.broker is not None:
            nodeconfig.parse_broker(args.broker)
        settings = [nodeconfig.parse_setting(s) for s in args.settings]
    except ValueError as e:
        raise UsageError(str(e)) from None
    return _run_until_done(args, lambda **kw: runner.start_node(
        args.broker, args.device_id, settings, **kw))


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _run_until_done(args, start):
    try:
        runner.parse_presses(args.press)
    except ValueError as e:
        raise UsageError(str(e)) from None
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started ignoring it
    # The program's output goes straight to ours. It runs in its own process group so that a
    # Ctrl-C (or a SIGINT to our whole group) reaches it once, from us, not also directly in
    # the middle of its clean-up; and it dies with us if we are killed outright.
    run = start(press=args.press, trace=args.trace, board_dir=args.board,
                stdout=None, stderr=None, own_process_group=True)
    try:
        print(f"sim: board at {run.board.dir}", file=sys.stderr, flush=True)
        try:
            code = run.wait(args.for_s) if args.for_s else run.wait(None)
        except TimeoutError:
            code = run.stop()
    except KeyboardInterrupt:
        try:
            code = run.stop()
        except KeyboardInterrupt:  # a second Ctrl-C: no more waiting
            run.kill()
            code = run.stop()
    if run.killed:
        print(f"sim: the program did not stop within {runner.STOP_GRACE_S:g} s of SIGINT; "
              "killed it", file=sys.stderr)
        return 1
    return code if code >= 0 else 128 - code


def cmd_pins(args):
    board = Board(args.board)
    if not board.dir.is_dir():
        raise UsageError(f"no board directory at {board.dir}")
    try:
        for assignment in args.assignments:
            name, sep, value = assignment.partition("=")
            if not sep:
                raise ValueError(f"drive a pin with NAME=VALUE, e.g. GP14=0, not {assignment!r}")
            board.drive(name, value)
        for name in args.release:
            board.release(name)
    except ValueError as e:
        raise UsageError(str(e)) from None
    if args.assignments or args.release:
        return 0
    outputs = sorted(board.outputs().items(), key=_pin_order)
    print("outputs:")
    for name, level in outputs or [("(none)", "")]:
        print(f"  {name} {level}".rstrip())
    print("driven inputs:")
    for name, value in list(board.driven().items()) or [("(none)", "")]:
        print(f"  {name} {value}".rstrip())
    return 0


def _pin_order(item):
    name = item[0]
    return (0, int(name[2:])) if name.startswith("GP") else (1, 0)


def cmd_setup(args):
    deps.install_umqtt()
    print(f"MicroPython interpreter: {deps.find_micropython()}")
    return 0


COMMANDS = {"run": cmd_run, "node": cmd_node, "pins": cmd_pins, "setup": cmd_setup}
