"""The virtual board's serial console (sim/console.py): real mpremote from .venv/bin, and pyserial,
talking to the REPL of the real interpreter through the pty, as they would to a Pico."""

import hashlib
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim import runner
from sim.console import Console
from sim.pins import Board
from sim.replstream import RAW_MARK, ReplStream
from tests.helpers import Child, fail_or_skip, wait_until
from tests.sim.sim_helpers import REPO

try:
    import serial  # pyserial, which mpremote brings
except ImportError:
    serial = None
MPREMOTE = Path(sys.executable).parent / "mpremote"
PWRON_RESET, WDT_RESET = 1, 3


@pytest.fixture
def make_board(tmp_path):
    """make_board(flash={name: text}) -> a started Console, its flash holding those files."""
    consoles = []

    def make(flash=None):
        for name, text in (flash or {}).items():
            path = tmp_path / "board" / "flash" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        consoles.append(Console(tmp_path / "board"))
        consoles[-1].wait_up(10)
        return consoles[-1]

    yield make
    for console in consoles:
        console.close()


@pytest.fixture
def board(make_board):
    return make_board()


def mpremote(console, *args, timeout=20):
    if not MPREMOTE.is_file():
        fail_or_skip("mpremote is not installed in .venv: make setup")
    done = subprocess.run([str(MPREMOTE), "connect", str(console.port), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"mpremote {args}: {done.stdout}{done.stderr}"
    return done.stdout


class Port:
    """The board's port opened as a terminal program would, read against a deadline."""

    def __init__(self, console):
        if serial is None:
            fail_or_skip("pyserial is not installed (it comes with mpremote): make setup")
        self.serial = serial.Serial(str(console.port), timeout=0)
        self.seen = b""

    def send(self, data):
        self.serial.write(data)

    def expect(self, pattern, timeout=5.0):
        """Read until `pattern` (bytes) has come; return everything read up to and with it."""
        deadline = time.monotonic() + timeout
        while pattern not in self.seen:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {pattern!r} within {timeout} s; read {self.seen!r}")
            select.select([self.serial.fileno()], [], [], left)
            self.seen += self.serial.read(4096)
        upto = self.seen.index(pattern) + len(pattern)
        found, self.seen = self.seen[:upto], self.seen[upto:]
        return found

    def close(self):
        self.serial.close()


def open_port(console):
    p = Port(console)
    p.send(b"\r\x03print('in' + 'sync')\r")  # whatever runs, stop it; then a fresh prompt
    p.expect(b"insync\n>>> ")
    return p


@pytest.fixture
def port(board):
    p = open_port(board)
    yield p
    p.close()


# --- what the board prints, read on its way (pure, no board) --------------------------------

FRIENDLY = b'MicroPython v on date; linux\r\nType "help()" for more information.\r\n>>> '


@pytest.mark.parametrize("chunks, mode", [
    ([FRIENDLY], "friendly"),
    ([FRIENDLY, b"\r\nraw REPL; CTRL-B to exit\r\n>"], "raw"),
    ([b"\r\nraw REPL; CTRL-B", b" to exit\r\n>"], "raw"),  # cut between two reads
    ([b"raw REPL; CTRL-B to exit\r\n>OK\x04\x04>\r\n", FRIENDLY], "friendly"),
    ([b"print('raw REPL; CTRL-B')\n"], "friendly"),
])
def test_the_repl_mode_is_what_the_repl_announced_last(chunks, mode):
    stream = ReplStream()
    assert b"".join(stream.feed(c) for c in chunks) == b"".join(chunks)
    assert stream.mode == mode


@pytest.mark.parametrize("cut", [1, 5, 14, 20, 40, 90])
def test_a_raw_restart_hides_the_friendly_banner_wherever_reads_end(cut):
    out = (b"boot says hi\n" + RAW_MARK + FRIENDLY + b"\r\nraw REPL; CTRL-B to exit\r\n>")
    stream = ReplStream()
    stream.mode = "raw"
    assert stream.restart() == b""
    shown = b"".join(stream.feed(out[i:i + cut]) for i in range(0, len(out), cut))
    assert shown == b"boot says hi\nraw REPL; CTRL-B to exit\r\n>"
    assert stream.feed(b"OK\x04\x04>") == b"OK\x04\x04>"  # then everything shows
    assert stream.mode == "raw"


def test_what_only_looked_like_the_start_of_a_mark_is_shown_after_all():
    stream = ReplStream()
    stream.mode = "raw"
    stream.restart()
    assert stream.feed(b"boot\x00") == b"boot"  # \x00 may start the mark: held back
    assert stream.feed(b"x") == b"\x00x"
    assert stream.feed(b"\x00sim:ra") == b""
    assert stream.restart() == b"\x00sim:ra"  # the interpreter ended: shown, not lost
    assert stream.mode == "raw"


def test_a_friendly_restart_hides_nothing():
    stream = ReplStream()
    stream.restart()
    assert stream.feed(RAW_MARK + FRIENDLY) == RAW_MARK + FRIENDLY


# --- the filesystem: the flash, and nothing outside it --------------------------------------


def test_fs_commands_work_on_the_flash_folder(board, tmp_path):
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.txt").write_text("alpha\n")
    (tree / "sub" / "b.txt").write_text("beta\n")
    mpremote(board, "fs", "cp", "-r", tree, ":")
    assert (board.flash / "tree" / "sub" / "b.txt").read_text() == "beta\n"
    assert "sub/" in mpremote(board, "fs", "ls", ":tree")
    assert mpremote(board, "fs", "cat", ":tree/a.txt").endswith("alpha\n")
    again = mpremote(board, "fs", "cp", "-r", tree, ":")
    assert "Up to date: ./tree/a.txt" in again  # needs hashlib.sha256 on the board
    mpremote(board, "fs", "rm", ":tree/a.txt")
    assert not (board.flash / "tree" / "a.txt").exists()
    assert sorted(p.name for p in board.dir.iterdir()) == [".console.lock", "flash", "pins.log", "serial"]


def test_a_large_binary_file_goes_both_ways_unchanged(board, tmp_path):
    data = os.urandom(16 * 1024)  # every byte value, Ctrl-C and Ctrl-D among them
    (tmp_path / "blob.bin").write_bytes(data)
    mpremote(board, "fs", "cp", tmp_path / "blob.bin", ":blob.bin", timeout=60)
    assert (board.flash / "blob.bin").read_bytes() == data
    mpremote(board, "fs", "cp", ":blob.bin", tmp_path / "back.bin", timeout=60)
    assert (tmp_path / "back.bin").read_bytes() == data


def test_output_nobody_reads_never_blocks_the_board(make_board):
    board = make_board({"main.py": "for i in range(3000):\n    print('line %d of output' % i, 'x' * 60)\n"
                                   "open('/done', 'w').write('yes')\n"})
    wait_until(lambda: text(board.flash / "done") == "yes", 10, "main.py to print 240 KB unread")
    assert mpremote(board, "eval", "1 + 1").strip() == "2"


def test_writes_by_a_program_stay_in_the_flash(board, tmp_path):
    out = mpremote(board, "exec", "\n".join([
        "import os",
        "open('/x', 'w').write('x')",
        "os.mkdir('/lib')",
        "open('/../../escape1', 'w').write('no')",
        "os.chdir('..'); os.chdir('../..')",
        "open('escape2', 'w').write('no')",
        "os.mkdir('lib/d'); os.chdir('/lib/d'); open('../../escape3', 'w').write('no')",
        "os.chdir('/'); os.rename('/x', '/lib/y')",
        "print(os.getcwd(), sorted(os.listdir('/')), sorted(os.listdir('/lib')))",
    ]))
    assert out.split() == ["/", "['escape1',", "'escape2',", "'escape3',", "'lib']", "['d',",
                           "'y']"]
    flash = sorted(str(p.relative_to(board.flash)) for p in board.flash.rglob("*"))
    assert flash == ["escape1", "escape2", "escape3", "lib", "lib/d", "lib/y"]
    outside = [p for p in tmp_path.rglob("*") if "escape" in p.name and board.flash not in p.parents]
    assert outside == []


def test_the_board_has_what_mpremote_needs_and_a_picos_path(board):
    out = mpremote(board, "exec", "\n".join([
        "import os, sys, hashlib, binascii",
        "os.mkdir('d'); open('d/f', 'wb').write(b'abc')",
        "print(os.listdir('d'), [e[:2] for e in os.ilistdir('d')], os.stat('d/f')[6])",
        "print(binascii.hexlify(hashlib.sha256(open('d/f', 'rb').read()).digest()).decode())",
        "os.remove('d/f'); os.rmdir('d'); print(os.listdir(), sys.path)",
    ]))
    assert out.splitlines() == [
        "['f'] [('f', 32768)] 3",
        hashlib.sha256(b"abc").hexdigest(),
        "[] ['', '.frozen', '/lib', '/.simhost/0']",   # last, the board's own modules loaded at first use
    ]


# --- running code ---------------------------------------------------------------------------


def test_exec_eval_and_run(board, tmp_path):
    assert mpremote(board, "eval", "6 * 7").strip() == "42"
    assert mpremote(board, "exec", "print('from exec')").strip() == "from exec"
    script = tmp_path / "script.py"
    script.write_text("import sys\nprint('ran', sys.platform)\n")
    assert mpremote(board, "run", script).strip() == "ran linux"


def test_raw_paste_mode_is_answered(port):
    port.send(b"\x01")
    port.expect(b"raw REPL; CTRL-B to exit\r\n>")
    port.send(b"\x05A\x01")
    assert port.expect(b"R\x01") == b"R\x01"  # raw-paste accepted, then its window size
    port.expect(b"\x01")
    port.send(b"print(40 + 2)\x04")
    assert port.expect(b"\x04\x04>").endswith(b"42\n\x04\x04>")


def test_mip_installs_from_a_local_index(board, tmp_path):
    source = b"VALUE = 42\n"
    short = hashlib.sha256(source).hexdigest()[:8]
    index = tmp_path / "index"
    (index / "file" / short[:2]).mkdir(parents=True)
    (index / "file" / short[:2] / short).write_bytes(source)
    package = {"hashes": [["tinypkg.py", short]], "version": "0.1"}
    for kind in ("py", "6"):  # .py sources, and what a board of bytecode version 6 asks for
        (index / "package" / kind / "tinypkg").mkdir(parents=True)
        (index / "package" / kind / "tinypkg" / "latest.json").write_text(json.dumps(package))
    mpremote(board, "mip", "install", "--index", index, "--target", "lib", "tinypkg")
    assert (board.flash / "lib" / "tinypkg.py").read_bytes() == source
    assert mpremote(board, "exec", "import tinypkg; print(tinypkg.VALUE)").strip() == "42"


# --- resets ---------------------------------------------------------------------------------

def text(path):
    return path.read_text() if path.exists() else ""


BOOT = "open('/log', 'a').write('boot\\n')\n"
MAIN = "open('/log', 'a').write('main\\n')\nfrom_main = 'yes'\n"


def test_soft_reset_in_raw_mode_runs_boot_only(make_board):
    board = make_board({"boot.py": BOOT, "main.py": MAIN})
    wait_until(lambda: text(board.flash / "log") == "boot\nmain\n", 5, "the first boot")
    out = mpremote(board, "soft-reset", "exec", "print('from_main' in globals())")
    assert out.strip() == "False"
    assert (board.flash / "log").read_text() == "boot\nmain\nboot\n"
    assert board.events.count("soft") == 1


def test_a_soft_reset_in_raw_mode_shows_what_the_rp2_port_shows(make_board):
    board = make_board({"boot.py": "print('boot says hi')\n"})
    port = open_port(board)
    port.send(b"\x01")
    port.expect(b"raw REPL; CTRL-B to exit\r\n>")
    port.send(b"\x04")
    assert port.expect(b"raw REPL; CTRL-B to exit\r\n>") == (
        b"OK\r\nMPY: soft reboot\r\nboot says hi\nraw REPL; CTRL-B to exit\r\n>")
    port.send(b"print(1 + 1)\x04")
    assert port.expect(b"\x04>") == b"OK2\n\x04\x04>"
    port.close()


def test_ctrl_d_in_the_friendly_repl_runs_boot_then_main(make_board):
    board = make_board({"boot.py": BOOT + "print('boot says hi')\n", "main.py": MAIN})
    wait_until(lambda: text(board.flash / "log") == "boot\nmain\n", 5, "the first boot")
    port = open_port(board)
    (board.flash / "log").unlink()
    port.send(b"\x04")
    after = port.expect(b">>> ")
    assert re.fullmatch(rb"\r\nMPY: soft reboot\r\nboot says hi\nMicroPython .*\r\n"
                        rb'Type "help\(\)" for more information.\r\n>>> ', after), after
    assert (board.flash / "log").read_text() == "boot\nmain\n"
    port.send(b"print(from_main)\r")  # main.py ran in the REPL's namespace, as on a Pico
    assert port.expect(b">>> ").endswith(b"yes\n>>> ")
    port.close()


def test_an_interpreter_ended_by_a_badly_timed_ctrl_c_comes_back_quietly(make_board):
    # The unix port dies of a SIGINT that comes between a program's end and the REPL's prompt
    # (a Pico just shows a prompt): the console starts it again without boot.py or main.py.
    board = make_board({"boot.py": BOOT, "main.py": MAIN})
    wait_until(lambda: text(board.flash / "log") == "boot\nmain\n", 5, "the first boot")
    port = open_port(board)
    os.kill(board._process.pid, signal.SIGINT)  # at the prompt: the instant the race hits
    board.wait_up(5, count=2)
    assert board.events == ["up", "interrupt", "up"]
    port.send(b"print('back')\r")
    assert port.expect(b"back\n>>> ").endswith(b"back\n>>> ")
    assert text(board.flash / "log") == "boot\nmain\n" and b"soft reboot" not in port.seen
    port.close()


def test_the_repl_keeps_no_history_file_on_the_laptop(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    with Console(tmp_path / "b", env={"HOME": str(home)}) as board:
        board.wait_up(10)
        port = open_port(board)
        port.send(b"\x04")  # the unix port writes its history when its REPL ends
        port.expect(b"MPY: soft reboot\r\n")
        port.close()
    assert list(home.iterdir()) == []


def test_reset_restarts_the_board_with_boot_and_main(make_board):
    board = make_board({"boot.py": BOOT, "main.py": MAIN})
    wait_until(lambda: text(board.flash / "log") == "boot\nmain\n", 5, "the first boot")
    (board.flash / "log").unlink()
    mpremote(board, "reset")
    board.wait_event("reset", 5)
    board.wait_up(5, count=3)  # mpremote soft-resets first, in raw mode: boot.py only
    wait_until(lambda: text(board.flash / "log") == "boot\nboot\nmain\n", 5, "boot.py, main.py")
    out = mpremote(board, "resume", "exec", "import machine; print(from_main, machine.reset_cause())")
    assert out.split() == ["yes", str(PWRON_RESET)]


def test_ctrl_c_interrupts_the_running_program(make_board):
    board = make_board({"main.py": "import time\nwhile True:\n    print('tick')\n    time.sleep(0.05)\n"})
    port = Port(board)
    try:
        port.expect(b"tick\n")
        port.send(b"\x03")
        interrupted = port.expect(b">>> ")
        assert b"KeyboardInterrupt" in interrupted and interrupted.endswith(b">>> ")
        port.send(b"print('still here')\r")
        assert port.expect(b">>> ").endswith(b"still here\n>>> ")
    finally:
        port.close()


# --- the watchdog, as on the rp2 port ---------------------------------------------------------


def test_the_watchdog_bites_an_idle_repl_and_the_board_hard_resets(make_board):
    board = make_board({"main.py": "import machine\nprint('main cause', machine.reset_cause())\n"})
    port = open_port(board)
    port.send(b"import machine; w = machine.WDT(timeout=400)\r")
    port.expect(b">>> ")
    started = time.monotonic()
    after = port.expect(b"main cause 3\n", timeout=5)  # boot.py, then main.py, run again
    assert b"sim: the watchdog reset the board\r\n" in after
    assert 0.3 < time.monotonic() - started < 3
    assert board.events[-2:] == ["watchdog", "up"]
    port.close()


def test_the_watchdog_survives_a_soft_reset_and_is_fed_by_feeding(board, port):
    port.send(b"import machine, time; w = machine.WDT(timeout=600)\r")
    port.expect(b">>> ")
    port.send(b"for i in range(10): w.feed(); time.sleep(0.1)\r\r")  # 1 s, fed every 0.1 s
    port.expect(b">>> ")
    assert "watchdog" not in board.events
    port.send(b"\x04")
    port.expect(b"MPY: soft reboot\r\n")
    port.expect(b"sim: the watchdog reset the board\r\n", timeout=3)
    board.wait_up(5, count=3)
    assert board.events == ["up", "soft", "up", "watchdog", "up"]
    mpremote(board, "resume", "exec", "import time; time.sleep(1)")  # no watchdog any more
    out = mpremote(board, "resume", "eval", "__import__('machine').reset_cause()")
    assert out.strip() == str(WDT_RESET)
    assert board.events.count("watchdog") == 1


# --- pins, the interactive REPL, the command line -------------------------------------------


def test_pins_work_on_a_board_with_a_console(board):
    mpremote(board, "exec", "from machine import Pin; Pin(15, Pin.OUT).on()")
    assert Board(board.dir).output("GP15") == 1
    done = subprocess.run([sys.executable, "-m", "sim", "pins", "--board", board.dir, "GP14=0"],
                          cwd=REPO, capture_output=True, text=True, timeout=20)
    assert done.returncode == 0, done.stderr
    assert mpremote(board, "eval", "__import__('machine').Pin(14, 0, 1).value()").strip() == "0"


def test_mpremote_repl_is_interactive_in_a_terminal(board):
    if not MPREMOTE.is_file():
        fail_or_skip("mpremote is not installed in .venv: make setup")
    pid, terminal = pty.fork()
    if pid == 0:
        os.execv(str(MPREMOTE), [str(MPREMOTE), "connect", str(board.port), "repl"])
    screen = b""

    def read_until(text, timeout=10):
        nonlocal screen
        deadline = time.monotonic() + timeout
        while text not in screen:
            left = deadline - time.monotonic()
            assert left > 0, f"no {text!r} on the screen: {screen!r}"
            if select.select([terminal], [], [], left)[0]:
                screen += os.read(terminal, 4096)

    try:
        read_until(b"Connected to MicroPython at")
        os.write(terminal, b"\r")
        read_until(b">>> ")
        os.write(terminal, b"print(6 * 7)\r")
        read_until(b"42")
        os.write(terminal, b"\x1d")  # Ctrl-]: leave mpremote
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        pid = None
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(terminal)


def _children(pid):
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
        except (OSError, ValueError, IndexError):
            pass
    return found


def test_sim_board_command_serves_the_port_and_a_kill_leaves_nothing_running(tmp_path):
    if not Path("/proc/self/stat").exists():
        fail_or_skip("this test reads /proc (Linux)")
    board_dir = tmp_path / "b"
    cli = Child([sys.executable, "-m", "sim", "board", "--board", board_dir, "--heap", "256K"], apart=True,
                cwd=REPO)
    try:
        line = cli.wait_line(lambda stream, text: stream == "err", 20)
        assert line == f"sim: board at {board_dir}, serial port {board_dir / 'serial'}"
        interpreters = wait_until(lambda: _children(cli.pid), 5, "the interpreter")
        console = type("C", (), {"port": board_dir / "serial"})
        assert mpremote(console, "eval", "sum(range(10))").strip() == "45"
        cli.signal(signal.SIGKILL)      # `sim board` alone, not its group: the interpreter must end with it
        cli.p.wait(10)
        wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in interpreters), 5,
                   "the interpreter to end with `sim board`")
    finally:
        cli.kill()


def test_sim_board_for_seconds_ends_by_itself_and_removes_the_port(tmp_path):
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "sim", "board", "--board", tmp_path / "b",
                           "--for", "0.5"], cwd=REPO, capture_output=True, text=True, timeout=20)
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("sim: board at ")
    assert not (tmp_path / "b" / "serial").exists() and (tmp_path / "b" / "flash").is_dir()
    assert time.monotonic() - started < 5


def test_node_with_serial_runs_the_node_with_its_repl_on_the_port(tmp_path):
    console = runner.start_node_console(tmp_path / "b", "127.0.0.1:1", "serialnode")
    try:
        console.wait_up(10)
        port = Port(console)
        port.expect(b"serialnode", timeout=10)  # the node's log on the console
        port.expect(b"mqtt: connect to 127.0.0.1:1 failed", timeout=10)
        port.send(b"\x03")
        port.expect(b">>> ", timeout=10)
        port.send(b"import config; print(config.DEVICE_ID)\r")
        assert port.expect(b">>> ").endswith(b"serialnode\n>>> ")
        port.close()
    finally:
        console.close()


@pytest.mark.parametrize("args, message", [
    (["board", "--heap", "lots"], "sim: --heap takes a size in bytes"),
    (["board", "--for", "0"], "sim: argument --for: --for takes a number of seconds > 0"),
    (["node", "--serial", "--trace"], "sim: --trace prints on the console's port"),
])
def test_bad_console_options_are_one_line_usage_errors(args, message):
    done = subprocess.run([sys.executable, "-m", "sim", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=20)
    assert done.returncode == 2
    assert done.stderr.startswith(message) and done.stderr.count("\n") == 1, done.stderr


def test_one_board_directory_serves_one_console(board, tmp_path):
    done = subprocess.run([sys.executable, "-m", "sim", "board", "--board", board.dir, "--for", "1"],
                          cwd=REPO, capture_output=True, text=True, timeout=20)
    assert (done.returncode, done.stderr) == (
        1, f"sim: a board with a serial console already runs in {board.dir}\n")
    assert mpremote(board, "eval", "2 + 2").strip() == "4"  # the first one is untouched
    (tmp_path / "file").write_text("")
    done = subprocess.run([sys.executable, "-m", "sim", "board", "--board", tmp_path / "file"],
                          cwd=REPO, capture_output=True, text=True, timeout=20)
    assert done.returncode == 1 and done.stderr.startswith("sim: cannot use "), done.stderr


def test_an_interpreter_that_cannot_start_stops_the_board_with_a_message(tmp_path):
    done = subprocess.run([sys.executable, "-m", "sim", "board", "--board", tmp_path / "b"],
                          cwd=REPO, capture_output=True, text=True, timeout=20,
                          env={**os.environ, "MICROPYTHON": "/bin/false"})
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        "sim: the serial console stopped: the interpreter ended (status 1) before the board booted")


def test_sim_node_serial_command_starts_and_stops(tmp_path):
    done = subprocess.run([sys.executable, "-m", "sim", "node", "--serial", "--board", tmp_path / "b",
                           "--broker", "127.0.0.1:1", "--heap", "320K", "--for", "1"],
                          cwd=REPO, capture_output=True, text=True, timeout=20)
    assert done.returncode == 0, done.stderr
    assert done.stderr == f"sim: board at {tmp_path / 'b'}, serial port {tmp_path / 'b' / 'serial'}\n"
    assert (tmp_path / "b" / "node-config" / "config_local.py").is_file()
