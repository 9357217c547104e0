"""The command line without a broker: `check` exit codes and JSON shape, usage errors."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from monitor import recording

from .mon_fakenode import FakeNode
from .mon_helpers import run_monitor


def write(path, records, tail: bytes = b"") -> str:
    path.write_bytes(b"".join(recording.encode(r) for r in records) + tail)
    return str(path)


def session() -> FakeNode:
    node = FakeNode()
    node.status()
    node.snapshot()
    node.button("b", True)
    node.command("c-1", led="on")
    node.snapshot()
    return node


def test_check_clean_recording_exits_0(tmp_path):
    done = run_monitor("check", write(tmp_path / "r.jsonl", session().out))
    assert done.returncode == 0, done.stderr
    assert "device pico-test" in done.stdout
    assert done.stdout.rstrip().endswith("OK")


def test_check_lost_message_exits_1_and_names_it(tmp_path):
    records = session().out
    del records[3]
    done = run_monitor("check", write(tmp_path / "r.jsonl", records))
    assert done.returncode == 1
    assert "LOST" in done.stdout and "seq 4 never received" in done.stdout
    assert "FAILED: 1 lost" in done.stdout


def test_check_json_report_shape(tmp_path):
    records = session().out
    records.append(records[2])  # a duplicate of seq 3
    done = run_monitor("check", "--json", write(tmp_path / "r.jsonl", records, tail=b'{"t": 1, "top'))
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["ok"] is False and report["torn_last_line"] is True and report["errors"] == 1
    assert report["summary"] == {"duplicate": 1}
    assert report["lines"] == len(records) + 1
    assert report["reorder_timeout_s"] == 2 and report["command_timeout_s"] == 10
    dev = report["devices"]["pico-test"]
    assert dev["ok"] is False and dev["online"] is True
    assert dev["summary"] == {"duplicate": {"count": 1, "errors": 1}}
    assert dev["counts"]["event"] == {"live": 4, "retained": 0}
    assert dev["commands"]["seen"] == 1 and dev["commands"]["acked_ok"] == 1
    (boot,) = dev["boots"]
    assert (boot["boot"], boot["live"], boot["seq_first"], boot["seq_last"]) == ("9f1c2a7b", 8, 1, 7)
    (dup,) = dev["findings"]
    assert dup["kind"] == "duplicate" and dup["error"] is True and dup["seqs"] == [3]
    assert [(m["seq"], m["ver"], m["line"]) for m in dup["messages"]] == [(3, 1, 3), (3, 1, len(records))]
    assert all(isinstance(m["t"], float) for m in dup["messages"])
    assert report["findings"] == []


def test_check_json_inconsistent_has_witness(tmp_path):
    node = session()
    last = json.loads(node.out[-1].payload)
    last["mode"] = "slow" if last["mode"] == "fast" else "fast"
    records = node.out[:-1] + [replace(node.out[-1], payload=json.dumps(last).encode())]
    done = run_monitor("check", "--json", write(tmp_path / "r.jsonl", records))
    assert done.returncode == 1
    (f,) = json.loads(done.stdout)["devices"]["pico-test"]["findings"]
    assert f["kind"] == "inconsistent"
    assert f["expected"]["mode"] != f["seen"]["mode"]
    assert f["messages"][-1]["ver"] == last["ver"] and f["messages"][-1]["topic"] == "state"


def test_check_notes_only_exits_0(tmp_path):
    first = FakeNode(boot="aaaaaaaa")
    first.status()
    second = FakeNode(boot="bbbbbbbb", t0=first.t + 1)
    second.status()
    done = run_monitor("check", write(tmp_path / "r.jsonl", first.out + second.out))
    assert done.returncode == 0, done.stdout
    assert done.stdout.rstrip().endswith("OK") and "notes: 1 reboot" in done.stdout


def test_check_timeouts_are_options(tmp_path):
    records = session().out
    i = next(i for i, r in enumerate(records) if b'"seq": 4,' in r.payload)
    records.append(replace(records.pop(i), t=records[-1].t + 3))   # seq 4 comes 3 s late
    path = write(tmp_path / "r.jsonl", records)
    assert run_monitor("check", path).returncode == 1                         # lost, then late
    assert run_monitor("check", path, "--reorder-timeout", "5").returncode == 0   # recovered


def test_check_torn_only_is_ok_and_says_so(tmp_path):
    done = run_monitor("check", write(tmp_path / "r.jsonl", session().out, tail=b'{"t": 17000'))
    assert done.returncode == 0
    assert "the last line is torn" in done.stdout


def test_check_garbage_file_reports_malformed_without_crashing(tmp_path):
    path = tmp_path / "junk.jsonl"
    path.write_bytes(b"hello\n\xff\xfe\n[]\n")
    done = run_monitor("check", str(path))
    assert done.returncode == 1
    assert done.stdout.count("MALFORMED") == 3
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("args, words", [
    (["check", "/no/such/file.jsonl"], "cannot read /no/such/file.jsonl"),
    (["send", "pico-x"], "nothing to send"),
    (["send", "pico-x", "--led", "blue"], "invalid choice"),
    (["send", "pico-x", "--led", "on", "--raw", "{}"], "--raw cannot be combined"),
    (["send", "pico/x", "--get"], "not a device id"),
    (["send", "pico-x", "--get", "--timeout", "0"], "positive number"),
    (["record", "--for", "-1"], "positive number"),
    (["record", "--broker", "host:notaport"], "port must be a number"),
    (["record", "--bogus"], "unrecognized arguments"),
    (["check", "x.jsonl", "--reorder-timeout", "0"], "positive number"),
    (["watch", "--rows", "0"], "at least 1"),
    (["fleet", "3", "--fault", "gremlins=0.1"], "unknown fault"),
    (["fleet", "3", "--fault", "lost=2"], "probability"),
    ([], "required"),
])
def test_usage_errors_exit_2_with_one_clear_line(args, words):
    done = run_monitor(*args)
    assert done.returncode == 2
    assert done.stderr.startswith("monitor: ") and words in done.stderr
    assert "Traceback" not in done.stderr
