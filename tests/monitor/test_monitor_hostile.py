"""Hostile payloads and files (issue 10, section 8): two recorders on one file, device ids hundreds of
characters long, terminal escapes in what nodes publish, a disk that fills up under `record`, and files
that are not recordings. Real processes and a real broker (amqtt on loopback) wherever the feature is
end to end; the table is also rendered directly at 100 columns."""

from __future__ import annotations

import fcntl
import json
import os
import re
import signal
import subprocess

import pytest
from rich.console import Console

from monitor import recording
from monitor.live import view
from monitor.record import Record
from monitor.text import cut, printable
from tests.helpers import fail_or_skip, wait_until

from .mon_helpers import ENV, PYTHON, Client, free_port, monitor, on_screen, run_monitor, terminal

SNAPSHOT = {"boot": "aaaaaaaa", "sess": 1, "seq": 2, "ts": 50, "ver": 0, "led": "auto", "lit": 0, "mode": "slow",
            "buttons": {"a": False, "b": False}, "presses": {"a": 0, "b": 0}, "temp_c": 21.5, "dropped": 0,
            "cmd_dropped": 0}
HOSTILE = "\x1b[2J\x1b]0;pwned\x07\x9b31m\x7f\r"
"""Clear the screen, set the window title (OSC ... BEL), a C1 CSI, DEL and a carriage return."""
RAW_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""Control characters a line of output must never carry (newline and tab aside, which print themselves)."""


def announced(name: str, text: str) -> bool:
    return name == "err" and text.startswith("monitor: recording ")


def controls(text: str) -> list[str]:
    return RAW_CONTROLS.findall(text)


def state(device: str, **fields) -> tuple[str, str]:
    return f"pico/{device}/state", json.dumps({**SNAPSHOT, **fields})


# --- printable() and cut(): the one function every printed line goes through ------------------------

@pytest.mark.parametrize("raw, shown", [
    ("plain text, ünïcödé °C ●", "plain text, ünïcödé °C ●"),
    ("\x1b[2J", "\\x1b[2J"),
    ("\x1b]0;title\x07", "\\x1b]0;title\\x07"),
    ("a\rb\nc\td\x00", "a\\x0db\\x0ac\\x09d\\x00"),
    ("\x7f\x80\x9b\x9f\xa0", "\\x7f\\x80\\x9b\\x9f\xa0"),   # DEL and C1 escaped; U+00A0 is printable
    ("\ud800", "\\ud800"),                                   # a lone surrogate cannot even be encoded
])
def test_printable_escapes_every_control_character_visibly(raw, shown):
    assert printable(raw) == shown
    assert not controls(printable(raw))


def test_cut_keeps_short_text_and_both_ends_of_long_text():
    assert cut("pico-abc", 21) == "pico-abc"
    long = "fleet-" + "x" * 300 + "-00042"
    shown = cut(long, 21)
    assert len(shown) == 21 and shown.startswith("fleet-") and shown.endswith("00042") and "…" in shown


# --- two recorders on one file ------------------------------------------------------------------------

def test_a_second_recorder_on_the_same_file_refuses_and_touches_nothing(broker, tmp_path):
    out = tmp_path / "rec.jsonl"
    first = monitor("record", "--broker", broker, "--out", str(out), "--quiet")
    node = Client(broker, "node")
    try:
        first.wait_line(announced, 20)
        node.publish(*state("pico-one"))
        wait_until(lambda: out.read_bytes().count(b"\n") == 1, 10, "the first recorder to write the message")
        before = (out.read_bytes(), out.stat().st_mtime_ns)
        # Pointed at a port where nothing listens: had it tried to connect first, it would say so.
        second = run_monitor("record", "--broker", f"127.0.0.1:{free_port()}", "--out", str(out), "--for", "5")
        assert second.returncode == 1, second
        assert second.stdout == ""
        lines = second.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("monitor: ") and "being recorded already" in lines[0], lines
        assert (out.read_bytes(), out.stat().st_mtime_ns) == before
        node.publish(*state("pico-one", seq=3, ts=60))
        wait_until(lambda: out.read_bytes().count(b"\n") == 2, 10, "the first recorder to write the next message")
    finally:
        node.close()
        first.signal(signal.SIGINT)
        assert first.finish(20) == 0, first.err
    assert [r.payload for r in recording.read(out)] == [state("pico-one")[1].encode(),
                                                        state("pico-one", seq=3, ts=60)[1].encode()]


def test_a_refused_recorder_does_not_even_end_a_torn_last_line(tmp_path):
    out = tmp_path / "rec.jsonl"
    good = recording.encode(Record(1.0, "pico/x/status", 1, False, b"{}"))
    out.write_bytes(good + good[:20])   # what a recorder killed mid-write leaves, still held by "it"
    with open(out, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        refused = run_monitor("record", "--broker", f"127.0.0.1:{free_port()}", "--out", str(out), "--for", "5")
    assert refused.returncode == 1 and "being recorded already" in refused.stderr, refused
    assert out.read_bytes() == good + good[:20]


# --- long device ids ----------------------------------------------------------------------------------

def _row(device: str, **fields) -> view.Row:
    values = dict(device=device, online=True, boot="9f1c2a7b", sess=1, ver=12, led="auto", lit=1, mode="fast",
                  buttons="a○ b○", presses="1/2", temp_c=21.5, last_seen=99.0, messages=40,
                  findings={"lost": (1, 1), "reboot": (2, 0)}, errors=1)
    values.update(fields)
    return view.Row(**values)


HEADINGS = ("device", "online", "boot/sess", "ver", "led", "mode", "buttons", "presses", "temp", "seen", "msgs",
            "findings")


def test_a_300_character_id_is_cut_and_the_table_stays_readable_at_100_columns():
    long_id = "x" * 290 + "-tail-0042"
    console = Console(width=100, record=True, file=open(os.devnull, "w"))  # noqa: SIM115 (closed below)
    try:
        console.print(view.render([_row(long_id), _row("pico-e6614c311b5c3a2f", errors=0)], 2, [], now=100.0))
    finally:
        console.file.close()
    lines = console.export_text().splitlines()
    assert all(len(line) <= 100 for line in lines)
    header = lines[0].split()
    assert header == list(HEADINGS), lines[0]        # every column is there, none cut to an ellipsis
    long_row = next(line for line in lines if line.startswith("xxx"))
    cells = long_row.split()
    assert cells[0] == cut(long_id, view.DEVICE_WIDTH) and cells[0].endswith("-tail-0042")
    assert cells[1:7] == ["online", "9f1c2a7b/1", "12", "auto", "●", "fast"]
    assert "lost 1" in long_row                      # the findings still read
    assert any(line.startswith("pico-e6614c311b5c3a2f online") for line in lines)  # a Pico's own id, whole


def test_cells_are_plain_escaped_text_never_markup():
    console = Console(width=120, record=True, file=open(os.devnull, "w"), force_terminal=True)  # noqa: SIM115
    try:   # a payload's "[/bold]" would be rich markup, and an unmatched closing tag raises
        console.print(view.render([_row("evil" + HOSTILE, led="[/b]", mode="[red]x", ver="[/]")], 1, [], now=100.0))
    finally:
        console.file.close()
    text = console.export_text()
    assert not controls(text) and "evil\\x1b[2" in text and "[/b] ●" in text and "[red]x" in text


def test_watch_in_a_100_column_terminal_cuts_a_300_character_id(broker, tmp_path):
    long_id = "y" * 290 + "-tail-0042"
    term = terminal([PYTHON, "-m", "monitor", "watch", "--broker", broker, "--out", str(tmp_path / "w.jsonl"),
                     "--refresh", "0.2"], columns=100, rows=30)
    node = Client(broker, "node")
    try:
        wait_until(lambda: "subscribed" in on_screen(term), 20, "watch to subscribe")
        node.publish(*state(long_id))
        node.publish(*state("pico-e6614c311b5c3a2f"))
        shown = cut(long_id, view.DEVICE_WIDTH)
        screen = wait_until(lambda: (t := on_screen(term)) and shown in t and "pico-e6614c311b5c3a2f" in t and t, 20,
                          "both devices on the screen")
        last = screen[screen.rindex("device "):]          # the newest drawing of the table
        header = last.splitlines()[0].split()
        assert header == list(HEADINGS), header
        assert "y" * (view.DEVICE_WIDTH + 1) not in screen
    finally:
        node.close()
        term.stop(15)


# --- terminal escapes ---------------------------------------------------------------------------------

def test_record_prints_hostile_payload_fields_escaped(broker, tmp_path):
    out = tmp_path / "rec.jsonl"
    rec = monitor("record", "--broker", broker, "--out", str(out))
    node = Client(broker, "node")
    try:
        rec.wait_line(announced, 20)
        node.publish(*state("pico-esc", led=HOSTILE, mode=HOSTILE))
        node.publish("pico/pico-esc/cmd", b'{"id": "c-1", "led": "' + HOSTILE.encode() + b'"}')  # raw, not JSON
        node.publish("pico/pico-esc/event", b"\x1b[2J not json \x07")
        rec.wait_line(lambda name, text: name == "out" and "MALFORMED" in text, 10)
    finally:
        node.close()
        rec.signal(signal.SIGINT)
        assert rec.finish(20) == 0, rec.err
    printed = "\n".join(rec.out + rec.err)
    assert not controls(printed), controls(printed)
    assert "led=\\x1b[2J\\x1b]0;pwned\\x07\\x9b31m\\x7f\\x0d" in printed
    assert '{"id": "c-1", "led": "\\x1b[2J' in printed    # the command as sent, escaped


def test_watch_prints_hostile_ids_and_fields_escaped(broker, tmp_path):
    # stdout a pipe: watch prints plain tables, so any control character in it came from the network
    proc = monitor("watch", "--broker", broker, "--out", str(tmp_path / "w.jsonl"), "--refresh", "0.2", "--for", "2")
    node = Client(broker, "node")
    try:
        proc.wait_line(lambda name, text: name == "out" and "subscribed" in text, 20)
        node.publish(*state("pico-esc", led=HOSTILE, mode=HOSTILE))
        proc.wait_line(lambda name, text: name == "out" and "pico-esc" in text, 10)
    finally:
        node.close()
    assert proc.finish(20) == 0, proc.err
    printed = "\n".join(proc.out + proc.err)
    assert not controls(printed), controls(printed)
    assert "pico-esc online aaaaaaaa/1" in printed and "\\x1" in printed   # (cut to the column: "\x1…0d")


def _hostile_recording(path) -> None:
    records = [Record(1.0, "pico/evil\x1b]0;pwned\x07/state", 1, False, state("x", led=HOSTILE)[1].encode()),
               Record(1.1, "pico/pico-esc/state", 1, False, state("x", led=HOSTILE, seq=3)[1].encode()),
               Record(1.2, "pico/pico-esc/event", 1, False, b"\x1b[2J\x9b not json"),
               Record(1.3, "pico/pico-esc/ack", 1, False, json.dumps({"id": HOSTILE, "ok": False}).encode())]
    path.write_bytes(b"".join(recording.encode(r) for r in records) + b"\x1b[2J\x07\n")


def test_check_reports_and_evidence_are_escaped(tmp_path):
    path = tmp_path / "hostile.jsonl"
    _hostile_recording(path)
    done = run_monitor("check", str(path))
    assert done.returncode == 1, done
    assert not controls(done.stdout + done.stderr), controls(done.stdout)
    assert "device evil\\x1b]0;pwned\\x07" in done.stdout
    as_json = run_monitor("check", "--json", str(path))
    assert not controls(as_json.stdout)
    report = json.loads(as_json.stdout)
    assert "evil\x1b]0;pwned\x07" in report["devices"]   # the JSON says exactly what came, escaped as JSON


def test_send_prints_a_hostile_ack_escaped(broker):
    responder = Client(broker, "node")

    def answer(client, message):
        command = json.loads(message.payload)
        client.client.publish("pico/pico-esc/ack", json.dumps(
            {"boot": "aaaaaaaa", "sess": 1, "seq": 9, "ts": 90, "id": command["id"], "ok": False,
             "error": "bad " + HOSTILE, "extra": "\x7f"}), qos=1)

    responder.on_message = answer
    try:
        responder.subscribe("pico/pico-esc/cmd")
        done = run_monitor("send", "pico-esc", "--led", "on", "--broker", broker)
    finally:
        responder.close()
    assert done.returncode == 1, done
    assert not controls(done.stdout + done.stderr), (done.stdout, done.stderr)
    assert json.loads(done.stdout)["error"] == "bad " + HOSTILE     # stdout: the ack's JSON, still exact
    assert "monitor: rejected: bad \\x1b[2J\\x1b]0;pwned\\x07" in done.stderr


# --- a full disk --------------------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    """A 64 KiB tmpfs, unmounted afterwards."""
    where = tmp_path / "small"
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(where)], capture_output=True,
                             text=True)
    if mounted.returncode != 0:
        fail_or_skip(f"cannot mount a small tmpfs: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_record_on_a_full_disk_counts_exactly_what_is_in_the_file(broker, small_disk):
    out = small_disk / "rec.jsonl"
    rec = monitor("record", "--broker", broker, "--out", str(out), "--quiet")
    try:
        rec.wait_line(announced, 20)
        fleet = run_monitor("fleet", "3", "--broker", broker, "--messages", "1500", "--prefix", "full-", timeout=60)
        assert fleet.returncode == 0, fleet.stderr
        status = rec.finish(30)
    finally:
        rec.kill()
    assert status == 1, rec.err
    failure = next(line for line in rec.err if "cannot write" in line)
    assert "the disk is full" in failure and "received but not recorded" in failure, rec.err
    recorded = next(line for line in rec.err if line.startswith("monitor: recorded "))
    count = int(recorded.split()[2])
    data = out.read_bytes()
    assert data.endswith(b"\n")                    # whole lines only: a line written in part was cut off
    items = recording.read(out)
    assert all(type(item) is Record for item in items)
    assert count == len(items) > 0, (recorded, len(items))
    checked = run_monitor("check", str(out))
    assert "torn" not in checked.stdout and "stopped mid-write" not in checked.stdout, checked.stdout
    assert f"monitor: note: the disk holding {out} is full" in checked.stderr


# --- files that are not recordings ----------------------------------------------------------------------

@pytest.mark.parametrize("content, why", [
    (b"", "the file is empty"),
    (b"just some text", "not a recording?"),                 # one line, no newline: it looked torn
    (b"# notes\nhello\n", "not a recording?"),
    (b'{"hello": "world"}\n', "not a recording?"),
])
def test_check_on_a_file_that_is_not_a_recording_fails(tmp_path, content, why):
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    done = run_monitor("check", str(path))
    assert done.returncode == 1, done
    assert done.stdout.splitlines()[-1].startswith("FAILED: no device messages found") and why in done.stdout
    as_json = run_monitor("check", "--json", str(path))
    assert as_json.returncode == 1 and json.loads(as_json.stdout)["ok"] is False


# --- a full file system without a mount: the writer past its file size limit (RLIMIT_FSIZE) -----------

WRITE_PAST_A_LIMIT = r'''
import json, resource, signal, sys
from monitor.errors import RecordingError
from monitor.record import Record
from monitor.receiving.writer import Writer
from monitor.recording import Mark

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)        # past the limit, write(2) fails with EFBIG instead
resource.setrlimit(resource.RLIMIT_FSIZE, (10_000, 10_000))
writer, given, error = Writer(sys.argv[1]), 0, None
try:
    for n in range(1000):
        if n % 7 == 3:
            writer.mark(Mark(float(n), "reconnected", float(n)))
        given += 1
        writer.write(Record(float(n), "pico/x/state", 1, False, b'{"n": %d, "pad": "%s"}' % (n, b"x" * 150)))
        if n % 5 == 0:
            writer.flush()
except RecordingError as exc:
    error = str(exc)
for _ in range(3):                                   # more arrive before the owner stops: not recorded either
    try:
        given += 1
        writer.write(Record(2000.0, "pico/x/state", 1, False, b"{}"))
    except RecordingError as exc:
        error = str(exc)
try:
    writer.close()
except RecordingError:
    pass
print(json.dumps({"count": writer.count, "marks": writer.marks, "lost": writer.lost, "given": given, "error": error}))
'''


def test_a_writer_past_its_file_size_limit_keeps_whole_lines_and_exact_counts(tmp_path):
    path = tmp_path / "rec.jsonl"
    done = subprocess.run([PYTHON, "-c", WRITE_PAST_A_LIMIT, str(path)], capture_output=True, text=True, timeout=30,
                          env=ENV)
    assert done.returncode == 0, done.stderr
    said = json.loads(done.stdout)
    data = path.read_bytes()
    assert 9_000 < len(data) <= 10_000 and data.endswith(b"\n")    # filled up, and whole lines only
    items = recording.read(path)
    records = [item for item in items if type(item) is Record]
    marks = [item for item in items if type(item) is recording.Mark]
    assert len(records) + len(marks) == len(items)
    assert (said["count"], said["marks"]) == (len(records), len(marks))
    assert said["lost"] == said["given"] - len(records) > 3
    assert said["error"].endswith(f"the file is as large as it may be; {said['lost']} messages received but not "
                                  "recorded")
