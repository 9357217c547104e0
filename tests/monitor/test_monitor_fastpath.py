"""The offline checker's fast path: `check(recording.iter_items(path))` reads the file's lines itself and
goes from a line straight to a `Message` (`recording.text_fields`, `message.parse_payload`,
`Checker.feed_lines`), with no `Record` in between. It must say exactly what the slow path says (each line
decoded to a `Record` or a `BadLine`, then `Checker.feed`): on good, bad, torn, base64 and malformed lines."""

from __future__ import annotations

import dataclasses
import json

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor import recording
from monitor.checker import Checker, Keeper, Limits, check
from monitor.errors import RecordingError
from monitor.fleet import Fleet
from monitor.fleet_publish import write
from monitor.message import MAX_PAYLOAD, Malformed, Message, parse, parse_payload
from monitor.record import Record
from monitor.recording import BadLine

from .mon_fakenode import FakeNode


def slow_check(path, **kw):
    """`check()` the way it went before the fast path: every line decoded to an item first."""
    return check(list(recording.read(path)), **kw)


def fast_check(path, **kw):
    items = recording.iter_items(path)
    assert isinstance(items, recording.Items) and items.fresh
    return check(items, **kw)


def envelope(**fields) -> str:
    """A node payload: the envelope, then `fields` (None leaves one out); not ASCII-escaped."""
    body = {"boot": "9f1c2a7b", "sess": 1, "seq": 1, "ts": 0, **fields}
    return json.dumps({k: v for k, v in body.items() if v is not None}, ensure_ascii=False)


def orjson_refuses(line: bytes) -> bool:
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
        return True
    return False


LINES = [  # one of each kind of line a recording can hold
    recording.encode(Record(1.0, "pico/d/status", 1, False, envelope(online=True).encode())),
    recording.encode(Record(1.1, "pico/d/state", 1, True, envelope(seq=2, ver=0).encode())),  # retained, bad body
    recording.encode(Record(1.2, "pico/d/event", 1, False, envelope(seq=3, ver=1, kind="led", led="on",
                                                                     by="button", µ="é").encode())),
    recording.encode(Record(1.3, "pico/d/event", 0, False, b"\xff\xfe")),  # base64: not UTF-8
    recording.encode(Record(1.4, "pico/d/event", 1, False, b'{"boot": "9f1c2a7b"')),  # not JSON
    recording.encode(Record(1.5, "pico/d/event", 1, False, b"[1, 2]")),
    recording.encode(Record(1.6, "pico/d/event", 1, False, b'{"boot": "9f1c2a7b", "sess": 1, "seq": 1e999}')),
    recording.encode(Record(1.7, "pico/d/event", 1, False, envelope(seq=10**30).encode())),  # orjson refuses
    recording.encode(Record(1.8, "pico/d/event", 1, False, envelope(seq=4, pad="é" * 6000).encode())),  # > 16 KiB
    recording.encode(Record(1.9, "pico/d/event", 1, False, envelope(seq=4, pad="x" * 5000).encode())),  # < 16 KiB
    recording.encode(Record(2.0, "pico/d/cmd", 1, False, b'{"id": "c-1", "led": "on"}')),
    recording.encode(Record(2.1, "pico/d/cmd", 1, False, b"\x80garbage")),
    recording.encode(Record(2.2, "pico/d/ack", 1, False, envelope(seq=5, id="c-1", ok=True, ver=2).encode())),
    recording.encode(Record(2.3, "pico//state", 1, False, b"{}")),
    recording.encode(Record(2.4, "elsewhere/x", 1, False, b"{}")),
    recording.encode(Record(2.5, "pico/d/wink", 1, False, b"{}")),
    recording.encode(Record(2.6, "pico/d/status", 2, False, envelope(seq=None, ts=None, online=False).encode())),
    b'{"t": 3, "topic": "pico/d/event", "qos": 1, "retain": false, "payload": ' + json.dumps(envelope(
        seq=6, ver=3, kind="button", button="a", pressed=True, presses=1)).encode() + b"}\n",  # an int `t`
    b'{"topic": "pico/d/event", "t": 3.5, "retain": false, "qos": 1, "payload": "{}"}\n',  # keys in another order
    b'{"t": NaN, "topic": "pico/d/event", "qos": 1, "retain": false, "payload": "{}"}\n',
    b'{"t": 1e999, "topic": "pico/d/event", "qos": 1, "retain": false, "payload": "{}"}\n',
    b'{"t": 4, "topic": "pico/d/event", "qos": true, "retain": false, "payload": "{}"}\n',
    b'{"t": 4, "topic": "pico/d/event", "qos": 1, "retain": 0, "payload": "{}"}\n',
    b'{"t": 4, "topic": "", "qos": 1, "retain": false, "payload": "{}"}\n',
    b'{"t": 4, "topic": "pico/d/event", "qos": 1, "retain": false, "payload": 7}\n',
    b'{"t": 4, "topic": "pico/d/event", "qos": 1, "retain": false, "payload": "{}", "payload_b64": "e30="}\n',
    b'{"t": 4, "topic": "pico/d/event", "qos": 1, "retain": false, "payload": "\\ud800"}\n',  # a lone surrogate
    b'{"t": 4, "topic": "pico/d/event", "qos": 1, "retain": false, "payload_b64": "!!"}\n',
    b'["t", 4]\n',
    b'"just a string"\n',
    b"\n",
    b"\xff\xfe\n",
    b"[" * 100_000 + b"\n",
]


def test_text_fields_is_what_decode_says_for_a_text_record_and_none_otherwise():
    for line in LINES:
        fields = recording.text_fields(line)
        try:
            record = recording.decode(line)
        except ValueError:
            assert fields is None, line
            continue
        if fields is None:  # a base64 payload, or a line only the standard library reads
            assert b'"payload_b64"' in line or orjson_refuses(line), line
            continue
        t, topic, retain, text, mono = fields
        assert type(t) is float
        assert Record(t, topic, record.qos, retain, text.encode(), mono) == record, line


def test_parse_payload_of_the_text_is_parse_of_the_bytes():
    for line in LINES:
        fields = recording.text_fields(line)
        if fields is None:
            continue
        t, topic, retain, text, _ = fields
        assert same_parse(topic, t, retain, text)


def same_parse(topic: str, t: float, retain: bool, text: str) -> bool:
    """`parse_payload()` of `text` and `parse()` of its bytes agree: the same `Message`, or the same
    `Malformed` (reason and device)."""
    def outcome(fn, *args):
        try:
            return fn(*args)
        except Malformed as exc:
            return ("malformed", exc.reason, exc.device)
    return outcome(parse_payload, topic, t, retain, text, 7) == outcome(parse, Record(t, topic, 1, retain,
                                                                                         text.encode()), 7)


def test_parse_payload_sets_every_field_of_the_message():
    text = envelope(seq=3, ver=2, kind="led", led="on", by="button")
    m = parse_payload("pico/d/event", 1.5, True, text, 9)
    for field in dataclasses.fields(Message):
        getattr(m, field.name)  # (a field never set has no value at all: AttributeError)
    assert m == Message("d", "event", 1.5, True, json.loads(text), "9f1c2a7b", 1, 3, 2, 9, wall=1.5)
    assert parse_payload("pico/d/event", 1.5, True, text.encode(), 9) == m


@pytest.mark.parametrize("size", [MAX_PAYLOAD // 4, MAX_PAYLOAD // 4 + 1, MAX_PAYLOAD, MAX_PAYLOAD + 1])
@pytest.mark.parametrize("char", ["x", "é", "€", "😀"])
def test_the_size_rule_counts_utf8_bytes_not_characters(size, char):
    room = size - len(envelope(pad="").encode())
    text = envelope(pad=char * (room // len(char.encode())) + "x" * (room % len(char.encode())))
    assert len(text.encode()) == size
    assert same_parse("pico/d/event", 1.0, False, text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200), st.sampled_from(["pico/d/event", "pico/d/state", "pico/d/status", "pico/d/ack",
                                               "pico/d/cmd", "pico//x", "pico/d/other"]), st.booleans())
def test_parse_payload_agrees_with_parse_on_any_text(text, topic, retain):
    text = text.encode("utf-8", "replace").decode("utf-8")  # what a recording can hold: no lone surrogates
    assert same_parse(topic, 1.0, retain, text)
    assert same_parse(topic, 1.0, retain, envelope(seq=2, extra=text))


def test_iter_items_is_an_iterator_of_items(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_bytes(b"".join(LINES) + b'{"t": 9')
    items = recording.iter_items(path)
    assert items.fresh and iter(items) is items
    first = next(items)
    assert not items.fresh and isinstance(first, Record)
    rest = list(items)
    assert [first, *rest] == recording.parse(path.read_bytes())
    assert rest[-1] == BadLine(line=len(LINES) + 1, reason="not JSON", torn=True)
    assert list(recording.iter_items(path).lines()) == list(enumerate(path.read_bytes().splitlines(True), 1))


def test_a_missing_file_is_a_recording_error_on_either_path(tmp_path):
    with pytest.raises(RecordingError, match="cannot read"):
        check(recording.iter_items(tmp_path / "nope.jsonl"))
    items = recording.iter_items(tmp_path / "nope.jsonl")
    with pytest.raises(RecordingError, match="cannot read"):
        next(items)


@pytest.mark.parametrize("tail", [b"", b'{"t": 9', b"\xff", b'{"t": 9.5, "topic": "pico/d/event", "qos": 1, '
                                                              b'"retain": false, "payload": "{}"}'])
def test_every_kind_of_line_checks_the_same_on_both_paths(tmp_path, tail):
    node = FakeNode(device="d")
    node.status()
    node.snapshot()
    node.button("a", True)
    node.command("c-1", led="on")
    path = tmp_path / "r.jsonl"
    path.write_bytes(b"".join(recording.encode(r) for r in node.out) + b"".join(LINES) + tail)
    assert fast_check(path) == slow_check(path)


def test_a_fleet_recording_with_faults_checks_the_same_on_both_paths(tmp_path):
    path = tmp_path / "fleet.jsonl"
    faults = {"lost": 0.01, "duplicate": 0.01, "reordered": 0.01, "reboot": 0.002, "malformed": 0.005}
    write(Fleet(12, seed=3, faults=faults), path, 6000, rate=2000)
    result = fast_check(path, reorder_timeout=0.5, command_timeout=2)
    assert result == slow_check(path, reorder_timeout=0.5, command_timeout=2)
    assert {f.kind for f in result.all_findings()} >= {"lost", "duplicate", "reordered", "reboot", "malformed"}


def test_a_partly_taken_iterator_is_checked_from_where_it_is(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_bytes(b"".join(LINES))
    items = recording.iter_items(path)
    next(items)
    assert check(items) == check(recording.read(path)[1:])


def test_feed_lines_is_feed_of_each_decoded_line(tmp_path):
    node = FakeNode(device="d")
    node.status()
    node.snapshot()
    node.button("b", True)
    lines = [recording.encode(r) for r in node.out] + LINES
    numbered = list(enumerate(lines, 1))
    fast, slow = Keeper(), Keeper()
    a, b = Checker(on_finding=fast, limits=Limits(boots=2)), Checker(on_finding=slow, limits=Limits(boots=2))
    a.feed_lines(numbered)
    for number, line in numbered:
        b.feed(recording.decode_item(number, line), number)
    a.finish()
    b.finish()
    assert a.result(fast.kept) == b.result(slow.kept)


RECORD_FIELD = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(), st.text(max_size=12),
                         st.just("pico/fz/event"), st.just("pico/fz/cmd"))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(
    st.binary(max_size=40),
    st.fixed_dictionaries({}, optional={"t": st.floats(1.0, 2.0) | RECORD_FIELD, "topic": RECORD_FIELD,
                                        "qos": RECORD_FIELD, "retain": RECORD_FIELD,
                                        "payload": st.text(max_size=20) | RECORD_FIELD,
                                        "payload_b64": RECORD_FIELD}).map(lambda d: json.dumps(d).encode()),
), max_size=12), st.binary(max_size=30))
def test_any_lines_check_the_same_on_both_paths(tmp_path_factory, lines, tail):
    path = tmp_path_factory.mktemp("fz") / "r.jsonl"
    path.write_bytes(b"".join(line.replace(b"\n", b" ") + b"\n" for line in lines) + tail.replace(b"\n", b""))
    assert fast_check(path) == slow_check(path)
