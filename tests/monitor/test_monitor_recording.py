"""The recording format: one JSON object per line, text or base64 payloads, torn last lines."""

from __future__ import annotations

import json
import time

import pytest

from monitor import recording
from monitor.errors import RecordingError
from monitor.record import Record
from monitor.recording import BadLine


def test_text_payload_round_trips_as_text():
    record = Record(1700000000.25, "pico/x/state", 1, True, '{"led": "on", "µ": 1}'.encode())
    line = recording.encode(record)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line) == {"t": 1700000000.25, "topic": "pico/x/state", "qos": 1, "retain": True,
                                "payload": '{"led": "on", "µ": 1}'}
    assert recording.decode(line.rstrip(b"\n")) == record


def test_binary_payload_round_trips_as_base64():
    record = Record(1.5, "pico/x/event", 0, False, b"\xff\x00\xfe")
    obj = json.loads(recording.encode(record))
    assert "payload" not in obj and obj["payload_b64"] == "/wD+"
    assert recording.decode(recording.encode(record)) == record


def test_writer_appends_and_flushes_each_line_within_flush_s(tmp_path):
    path = tmp_path / "sub" / "rec.jsonl"
    a = Record(1.0, "pico/x/status", 1, True, b"{}")
    b = Record(2.0, "pico/x/state", 1, False, b"\x80")
    with recording.Writer(path) as writer:
        writer.write(a)
        deadline = time.monotonic() + 5.0  # FLUSH_S (ms), with room for a busy machine
        while recording.read(path) != [a] and time.monotonic() < deadline:
            time.sleep(recording.FLUSH_S)
        assert recording.read(path) == [a]  # visible before close: flushed
    with recording.Writer(path) as writer:
        writer.write(b)
        assert writer.count == 1
    assert recording.read(path) == [a, b]


def test_torn_last_line_is_a_torn_badline():
    good = recording.encode(Record(1.0, "pico/x/status", 1, False, b"{}"))
    items = recording.parse(good + good[:20])
    assert items[1] == BadLine(line=2, reason="not JSON", torn=True)


def test_unterminated_but_complete_last_line_is_kept():
    good = recording.encode(Record(1.0, "pico/x/status", 1, False, b"{}"))
    assert len(recording.parse(good + good.rstrip(b"\n"))) == 2


@pytest.mark.parametrize("line, reason", [
    (b"", "empty line"),
    (b"{oops", "not JSON"),
    (b"[1]", "not a JSON object"),
    (b'{"topic": "a", "qos": 1, "retain": false, "payload": ""}', '"t"'),
    (b'{"t": 1, "topic": "", "qos": 1, "retain": false, "payload": ""}', '"topic"'),
    (b'{"t": 1, "topic": "a", "qos": 3, "retain": false, "payload": ""}', '"qos"'),
    (b'{"t": 1, "topic": "a", "qos": 1, "retain": 1, "payload": ""}', '"retain"'),
    (b'{"t": 1, "topic": "a", "qos": 1, "retain": false}', "exactly one"),
    (b'{"t": 1, "topic": "a", "qos": 1, "retain": false, "payload_b64": "!!"}', "base64"),
    (b"\xff", "not UTF-8"),
])
def test_bad_lines_in_the_middle_are_not_torn(line, reason):
    good = recording.encode(Record(1.0, "pico/x/status", 1, False, b"{}"))
    items = recording.parse(good + line + b"\n" + good)
    assert isinstance(items[1], BadLine) and not items[1].torn
    assert reason in items[1].reason
    assert items[0] == items[2]


def test_missing_file_is_a_recording_error(tmp_path):
    with pytest.raises(RecordingError, match="cannot read"):
        recording.read(tmp_path / "nope.jsonl")


def test_default_path_is_dated_under_recordings():
    path = recording.default_path(0)
    assert path.parent.name == "recordings" and path.suffix == ".jsonl" and len(path.stem) == 15


def test_absurdly_deep_json_is_a_bad_line():
    (item,) = recording.parse(b"[" * 100_000 + b"\n")
    assert isinstance(item, BadLine) and item.reason == "not JSON"
