"""`python -m monitor plot`: the checker's labelled recordings drawn, each finding found on the drawing at its
place (its device's findings lane, at the x of its time), with its witness as hover text; the seq-step lane;
the PNG; the choice of devices (`--device`, findings first on a fleet with injected faults); the errors."""

from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from monitor import findings as F
from monitor import recording
from monitor.checker import check
from monitor.fleet import Fleet
from monitor.fleet_publish import write as write_fleet
from monitor.plot.run import plot
from monitor.record import Record

from .mon_fakenode import FakeNode
from .mon_helpers import run_monitor
from .test_model_rules import BROKEN, broken_recording, load

SVG = "{http://www.w3.org/2000/svg}"


def save(records: list[Record], path: Path) -> Path:
    path.write_bytes(b"".join(recording.encode(r) for r in records))
    return path


def faulty(device: str, t0: float) -> list[Record]:
    """A node's session with one of each delivery fault: a lost message, a duplicate, a reorder past the
    timeout (lost, then late), an unacked command (the stream goes on past the command timeout)."""
    node = FakeNode(device=device, t0=t0)
    node.status()
    node.snapshot()
    node.button("a", True)
    node.button("a", False)
    node.command("c-1", led="on")
    node.snapshot()
    node.button("b", True)                       # seq 8, 9 (the mode toggle)
    node.send({"id": "c-2", "mode": "fast"})     # never answered
    node.button("b", False)
    for _ in range(8):
        node.snapshot()
    out = node.out
    lost = next(i for i, r in enumerate(out) if r.topic.endswith("/event") and b'"pressed": false' in r.payload)
    del out[lost]                                # the release of A: lost
    dup = next(i for i, r in enumerate(out) if r.topic.endswith("/ack"))
    out.insert(dup + 1, Record(out[dup].t + 0.001, out[dup].topic, 1, False, out[dup].payload))
    late = len(out) - 6                          # a snapshot arriving 3 s late: lost, then reordered (late)
    out.append(Record(out[-1].t + 3, out[late].topic, 1, False, out[late].payload))
    del out[late]
    for r in out[late:]:                         # the node goes quiet for 12 s: c-2 is unacked by then
        r.t += 12
    node.t = out[-1].t
    node.snapshot()
    return out


def labelled(tmp_path: Path) -> tuple[Path, list[F.Finding]]:
    """Every broken vector (one device each) and two faulty sessions, in one recording; its findings."""
    streams = [broken_recording(load(p), device=f"vec-{p.stem}") for p in BROKEN]
    streams += [faulty("pico-faulty", 1_700_000_000.0), faulty("pico-other", 1_700_000_001.5)]
    records = sorted((r for s in streams for r in s), key=lambda r: r.t)  # (stable: each device's order kept)
    path = save(records, tmp_path / "labelled.jsonl")
    return path, check(recording.iter_items(path)).all_findings()


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def translate(el: ET.Element) -> tuple[float, float]:
    x, y = re.fullmatch(r"translate\(([-\d.]+),([-\d.]+)\)", el.get("transform", "")).groups()  # type: ignore[union-attr]
    return float(x), float(y)


def axis(root: ET.Element):
    t0, t1, x0, x1 = (float(root.get(k)) for k in ("data-t0", "data-t1", "data-x0", "data-x1"))  # type: ignore[arg-type]
    return lambda t: x0 + (t - t0) / (t1 - t0) * (x1 - x0)


def device_group(root: ET.Element, device: str) -> ET.Element:
    (group,) = [g for g in root.iter(SVG + "g") if g.get("class") == "device" and g.get("data-device") == device]
    return group


def lane(group: ET.Element, name: str) -> tuple[float, float]:
    (el,) = [g for g in group.iter(SVG + "g") if g.get("class") == "lane" and g.get("data-lane") == name]
    return float(el.get("data-y0")), float(el.get("data-y1"))  # type: ignore[arg-type]


def test_each_finding_of_the_labelled_recordings_is_on_its_device_lane_at_its_time(tmp_path):
    path, found = labelled(tmp_path)
    kinds = {f.kind for f in found}
    assert {F.INCONSISTENT, F.LOST, F.DUPLICATE, F.REORDERED, F.UNACKED} <= kinds, kinds
    devices = sorted({f.device for f in found if f.device})
    assert len(devices) == len(BROKEN) + 2
    out, tl = plot(path, tmp_path / "t.svg", max_devices=100)
    root = parse(out.read_text())
    x_of = axis(root)
    for device in devices:
        group = device_group(root, device)
        y0, y1 = lane(group, "findings")
        marks = [g for g in group.iter(SVG + "g") if (g.get("class") or "").startswith("finding")]
        want = sorted((f.kind, f.t) for f in found if f.device == device)
        assert sorted((m.get("data-kind"), float(m.get("data-t"))) for m in marks) == want, device
        for m in marks:
            x, y = translate(m)
            assert x == pytest.approx(x_of(float(m.get("data-t"))), abs=0.06), (device, m.get("data-kind"))
            assert y0 <= y <= y1
            assert (m.get("class") == "finding error") == next(f.error for f in found if f.device == device and
                                                                 f.kind == m.get("data-kind"))
    assert {d.device for d in tl.devices} == set(devices)


def test_the_seq_step_lane_shows_a_gap_above_one_and_a_duplicate_at_zero(tmp_path):
    path = save(faulty("pico-faulty", 1_700_000_000.0), tmp_path / "one.jsonl")
    out, _ = plot(path, tmp_path / "one.svg")
    root = parse(out.read_text())
    group = device_group(root, "pico-faulty")
    y0, y1 = lane(group, "seq")
    steps = {int(g.get("data-step")): translate(g) for g in group.iter(SVG + "g") if g.get("class") == "step"}
    assert 2 in steps and 0 in steps and min(steps) < 0, steps       # the lost one, the duplicate, the late one
    (run_y,) = {float(line.get("y1")) for line in group.iter(SVG + "line") if line.get("class") == "run"}
    assert y0 <= steps[2][1] < run_y < steps[0][1] < steps[min(steps)][1] <= y1  # gap above 1, dup and reorder below


def test_html_has_each_witness_as_hover_text(tmp_path):
    path = save(faulty("pico-faulty", 1_700_000_000.0), tmp_path / "w.jsonl")
    found = [f for f in check(recording.iter_items(path)).all_findings()]
    out, _ = plot(path)                                              # default: beside the recording, .html
    assert out == tmp_path / "w.html"
    page = out.read_text()
    assert page.startswith("<!doctype html>") and "<script" not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")                    # offline: nothing to load
    root = parse(page[page.index("<svg"):page.index("</svg>") + 6])
    titles = {m.get("data-kind") + m.get("data-t"): m.find(SVG + "title").text
              for m in root.iter(SVG + "g") if (m.get("class") or "").startswith("finding")}
    for f in found:
        title = titles[f.kind + repr(f.t)]
        assert f.detail in title
        for ref in f.messages:
            assert f"line {ref.line} " in title


def test_png_is_a_valid_png_of_the_drawing_size(tmp_path):
    path = save(faulty("pico-faulty", 1_700_000_000.0), tmp_path / "p.jsonl")
    svg, _ = plot(path, tmp_path / "p.svg")
    png, _ = plot(path, tmp_path / "p.png")
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    root = parse(svg.read_text())
    assert (width, height) == (int(root.get("width")), round(float(root.get("height"))))
    assert 200 < height < 1000 and len(data) > 10_000                # one device: lanes drawn, not a blank


def fleet_recording(tmp_path: Path) -> tuple[Path, dict]:
    fleet = Fleet(200, seed=7, faults={"lost": 0.002, "duplicate": 0.002})
    path = tmp_path / "fleet.jsonl"
    write_fleet(fleet, path, 6000, t0=1_700_000_000.0)
    return path, fleet.manifest()


def test_a_fleet_draws_the_devices_with_findings_first(tmp_path):
    path, manifest = fleet_recording(tmp_path)
    faulted = {item["device"] for item in manifest["injected"]}
    assert 5 < len(faulted) < 150
    result = check(recording.iter_items(path))
    errors = {d.device: sum(e for _, e in d.tally.values()) for d in result.devices}
    out, tl = plot(path, tmp_path / "fleet.svg", max_devices=5)
    drawn = [d.device for d in tl.devices]
    assert len(drawn) == 5 and set(drawn) <= faulted
    assert [errors[d] for d in drawn] == sorted(errors.values(), reverse=True)[:5]
    root = parse(out.read_text())
    assert [g.get("data-device") for g in root.iter(SVG + "g") if g.get("class") == "device"] == drawn
    assert "195 more device(s) not drawn" in out.read_text()


def test_the_command_draws_asked_devices_and_says_what_is_wrong_in_one_line(tmp_path):
    path, _ = fleet_recording(tmp_path)
    done = run_monitor("plot", str(path), "--device", "fleet-00042", "--device", "fleet-00007", "-o",
                       str(tmp_path / "two.svg"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(tmp_path / "two.svg")
    assert done.stderr.startswith("monitor: timeline of 2 of 200 device(s)")
    root = parse((tmp_path / "two.svg").read_text())
    assert [g.get("data-device") for g in root.iter(SVG + "g") if g.get("class") == "device"] == \
        ["fleet-00042", "fleet-00007"]
    (tmp_path / "text.txt").write_text("not a recording\n")
    for args, status, says in [
            (["--device", "nobody"], 2, "monitor: no device 'nobody' in the recording"),
            (["-o", str(tmp_path / "x.pdf")], 2, "monitor: cannot write"),
            ([str(tmp_path / "missing.jsonl")], 2, "monitor: cannot read"),
            ([str(tmp_path / "text.txt")], 1, "monitor: "),
            (["--max-devices", "0"], 2, "monitor: ")]:
        target = [] if args and args[0].startswith("/") else [str(path)]
        done = run_monitor("plot", *(target + args))
        assert done.returncode == status, (args, done.stderr)
        assert done.stderr.startswith(says) and done.stderr.count("\n") == 1, done.stderr
        assert done.stdout == ""
    assert not (tmp_path / "x.pdf").exists() and not (tmp_path / "text.html").exists()


def test_a_bad_line_and_the_monitors_absence_are_drawn_for_the_whole_recording(tmp_path):
    records = faulty("pico-faulty", 1_700_000_000.0)
    lines = [recording.encode(r) for r in records]
    bad_at, away = 5, (records[8].t + 0.001, records[12].t - 0.001)
    lines[bad_at:bad_at] = [b"not a recording line\n"]
    lines[9:9] = [recording.encode_mark(recording.Mark(away[0], "disconnected", None, "test"))]
    lines[14:14] = [recording.encode_mark(recording.Mark(away[1], "reconnected", None))]
    path = tmp_path / "odd.jsonl"
    path.write_bytes(b"".join(lines))
    out, tl = plot(path, tmp_path / "odd.svg")
    root = parse(out.read_text())
    x_of = axis(root)
    (bad,) = [g for g in root.iter(SVG + "g") if g.get("data-kind") == F.MALFORMED]
    assert bad.get("data-device") is None and bad.get("data-line") == str(bad_at + 1)
    assert translate(bad)[0] == pytest.approx(x_of(records[bad_at - 1].t), abs=0.06)  # the line before's time
    (band,) = [r for r in root.iter(SVG + "rect") if r.get("class") == "away"]
    assert float(band.get("x")) == pytest.approx(x_of(away[0]), abs=0.06)
    assert float(band.get("x")) + float(band.get("width")) == pytest.approx(x_of(away[1]), abs=0.06)
