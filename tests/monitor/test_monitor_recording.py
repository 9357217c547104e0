"""The recording format: one JSON object per line, text or base64 payloads, torn last lines."""

from __future__ import annotations

import json
import time

import pytest

from monitor import recording
from monitor.errors import RecordingError
from monitor.record import Record
from monitor.receiving.writer import FLUSH_BYTES, FLUSH_S, Writer
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


def test_writer_batches_lines_until_flush_at_then_appends(tmp_path):
    path = tmp_path / "sub" / "rec.jsonl"
    a = Record(1.0, "pico/x/status", 1, True, b"{}")
    b = Record(2.0, "pico/x/state", 1, False, b"\x80")
    with Writer(path) as writer:
        assert writer.flush_at is None and (writer.first_line, writer.offset) == (1, 0)
        before = time.monotonic()
        assert writer.write(a) == 1
        assert before + FLUSH_S <= writer.flush_at <= time.monotonic() + FLUSH_S
        assert not writer.flush_due(writer.flush_at - 1e-6) and path.read_bytes() == b""  # waits in the process
        assert writer.flush_due(writer.flush_at) and writer.flush_at is None
        assert recording.read(path) == [a]  # in the file before close
        assert not writer.flush_due(time.monotonic() + 1)  # nothing waits
    size = path.stat().st_size
    with Writer(path) as writer:
        assert (writer.first_line, writer.offset) == (2, size)
        assert writer.write(b) == 2
        assert writer.count == 1
    assert recording.read(path) == [a, b]


def test_writer_hands_a_full_batch_over_at_once(tmp_path):
    path = tmp_path / "rec.jsonl"
    big = Record(1.0, "pico/x/state", 1, False, b"x" * 1000)
    with Writer(path) as writer:
        n = 0
        while writer.flush_at is not None or n == 0:
            writer.write(big)
            n += 1
            assert n <= FLUSH_BYTES // 1000 + 1
        assert path.stat().st_size >= FLUSH_BYTES  # written without waiting for flush_at
        assert len(recording.read(path)) == n


def test_writer_appends_after_a_torn_line_on_a_line_of_its_own(tmp_path):
    path = tmp_path / "rec.jsonl"
    good = recording.encode(Record(1.0, "pico/x/status", 1, False, b"{}"))
    path.write_bytes(good + good[:20])
    with Writer(path) as writer:
        assert (writer.first_line, writer.offset) == (3, len(good) + 21)
        writer.write(Record(2.0, "pico/x/status", 1, False, b"{}"))
    items = recording.read(path)
    assert len(items) == 3 and isinstance(items[1], BadLine) and not items[1].torn and items[2].t == 2.0


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
    (b'{"t": 1' + b"0" * 400 + b', "topic": "a", "qos": 1, "retain": false, "payload": ""}', '"t"'),  # no float
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
