"""The pure parts of `monitor web` (cards, the store's diffs and pages, the command requests' checks) and its
server on a loopback port with the sender replaced (a unit test of `monitor.web.server`: its guards and its
WebSocket requests; the real sender against a real node is tests/web/test_dashboard.py)."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from aiohttp import WSServerHandshakeError
from aiohttp.test_utils import TestClient, TestServer

from monitor import findings as F
from monitor.checker import Checker
from monitor.errors import UsageError
from monitor.record import Record
from monitor.send import Ack
from monitor.web import cards, run, server
from monitor.web.store import PAGE_SIZE, Batch, Page, Store

SNAP = {"boot": "b0000001", "sess": 1, "ver": 4, "led": "on", "lit": 1, "mode": "fast",
        "buttons": {"a": True, "b": False}, "presses": {"a": 3, "b": 1}, "temp_c": 24.5, "dropped": 0, "cmd_dropped": 0}


def rec(device, kind, body, t=1000.0, retain=False):
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Record(t, f"pico/{device}/{kind}", 1, retain, payload, t)


def test_a_card_shows_the_newest_snapshot_and_the_findings():
    checker = Checker(view=True)
    checker.feed(rec("desk", "status", {"online": True, "boot": "b0000001", "sess": 1, "seq": 1, "ts": 1}), 1)
    checker.feed(rec("desk", "state", {**SNAP, "seq": 2, "ts": 5}), 2)
    checker.feed(rec("desk", "state", {**SNAP, "seq": 5, "ts": 9}, t=1001.0), 3)  # seq 3 and 4 missing
    checker.advance(1010.0)
    c = cards.card(checker.devices["desk"])
    assert (c["online"], c["boot"], c["sess"], c["led"], c["lit"], c["mode"]) == ("online", "b0000001", 1, "on", 1, "fast")
    assert c["buttons"] == {"a": True, "b": False} and c["presses"] == {"a": 3, "b": 1} and c["temp_c"] == 24.5
    assert c["findings"]["lost"] == [1, 1]  # (and `inconsistent`: ver 4 with no events before it)
    assert c["errors"] == sum(e for _, e in c["findings"].values())
    assert cards.card(checker.devices["desk"], gone=1005.0)["online"] == "unknown"
    json.dumps(c)  # plain values only


def test_log_lines_and_seq_steps():
    assert cards.record_entry(rec("d", "state", SNAP)) is None  # snapshots: on the card, not in the log
    assert cards.record_entry(rec("d", "event", SNAP, retain=True)) is None
    line = cards.record_entry(rec("d", "event", {"seq": 3, "ver": 2, "kind": "button", "button": "a", "pressed": True}))
    assert line["kind"] == "event button" and 'button="a"' in line["text"] and line["device"] == "d"
    assert cards.record_entry(rec("d", "ack", b"\x1b[2J not json"))["text"].startswith("\x1b[2J")  # text, as data
    steps = cards.Steps()
    seqs = [("b1", 1), ("b1", 2), ("b1", 5), ("b1", 5), ("b1", 4), ("b2", 1)]
    got = [steps.step("d", rec("d", "event", {"boot": b, "seq": s}))[0] for b, s in seqs]
    assert got == [None, 1, 3, 0, -1, None]
    finding = F.Finding(F.LOST, "seq 3 never received", "d", "b1", seqs=(3, 4), messages=(F.Ref(7, 1000.5),))
    entry = cards.finding_entry(finding)
    assert entry["level"] == "error" and entry["seqs"] == [3, 4] and entry["t"] == 1000.5


def card_of(name, errors=0, n=0):
    return {"device": name, "findings": {"lost": [errors, errors]} if errors else {}, "errors": errors, "n": n}


def test_the_store_sends_a_page_of_cards_then_only_what_changed():
    store = Store()
    store.apply(Batch(cards={f"d{i:04d}": card_of(f"d{i:04d}") for i in range(1000)} | {"zz": card_of("zz", 2)}))
    page = Page()
    first = store.delta(page)
    assert len(first["cards"]) == PAGE_SIZE and first["order"][0] == "zz"  # errors first
    assert first["counts"] == {"total": 1001, "matching": 1001, "page": 0, "pages": -(-1001 // PAGE_SIZE)}
    assert first["selected"] == "zz"
    assert store.delta(page) is None  # nothing new: nothing sent
    store.apply(Batch(cards={"d0001": card_of("d0001", n=1), "d0999": card_of("d0999", n=1)}))
    assert [c["device"] for c in store.delta(page)["cards"]] == ["d0001"]  # d0999 is not on this page
    store.apply(Batch(cards={"d0001": card_of("d0001", n=1)}))  # the same content: no change
    assert store.delta(page) is None
    page.filter, page.page = "d09", 0
    shown = store.delta(page)
    assert shown["counts"]["matching"] == 100 and all(n.startswith("d09") for n in shown["order"])
    page.page = 99
    assert store.delta(page)["counts"]["page"] == 4  # past the end: the last page
    page.filter, page.findings_only = "", True
    assert store.delta(page)["order"] == ["zz"]


def test_the_store_bounds_the_log_per_update_and_sends_the_selected_timeline():
    store = Store()
    store.apply(Batch(cards={"a": card_of("a"), "b": card_of("b")},
                      log=[{"t": 1.0, "text": str(i)} for i in range(500)],
                      points=[("a", {"t": 9e9, "lane": "seq", "step": 1}), ("b", {"t": 9e9, "lane": "seq", "step": 2})]))
    page = Page()
    first = store.delta(page)
    assert len(first["log"]) == 200 and first["skipped"] == 300 and first["log"][-1]["text"] == "499"
    assert first["timeline"]["device"] == "a" and first["timeline"]["reset"]
    store.apply(Batch(log=[{"t": 2.0, "text": "x"}] * 150, points=[("a", {"t": 9e9, "lane": "finding"})]))
    second = store.delta(page)
    assert len(second["log"]) == 100 and second["skipped"] == 50
    assert second["timeline"] == {"device": "a", "reset": False, "points": [{"t": 9e9, "lane": "finding"}],
                                  "span_s": 300.0}
    page.selected = "b"
    third = store.delta(page)
    assert third["timeline"]["reset"] and third["timeline"]["points"][0]["step"] == 2


def test_the_store_keeps_at_most_points_total_over_all_devices_the_newest(monkeypatch):
    from monitor.web import store as store_module

    monkeypatch.setattr(store_module, "POINTS_TOTAL", 50)
    monkeypatch.setattr(store_module, "POINTS_KEPT", 20)
    store = Store()
    now = time.time()
    # 30 devices, 3 points each, in rounds: 90 points, 50 kept: the newest 50, whoever they belong to.
    for r in range(3):
        store.apply(Batch(points=[(f"d{i:02d}", {"t": now, "lane": "seq", "n": r * 30 + i}) for i in range(30)]))
    kept = sorted(p["n"] for points in store._points.values() for _, p in points)
    assert kept == list(range(40, 90))
    # One device over its own POINTS_KEPT: its oldest go first, and the total still holds.
    store.apply(Batch(points=[("busy", {"t": now, "lane": "seq", "n": 100 + k}) for k in range(45)]))
    assert [p["n"] for _, p in store._points["busy"]] == list(range(125, 145))
    assert sum(len(points) for points in store._points.values()) <= 50


@pytest.mark.parametrize("request_, words", [
    ({"device": "d"}, "nothing to send"),
    ({"device": "d", "led": "purple"}, "led must be one of"),
    ({"device": "d", "get": "yes"}, "get must be one of"),
    ({"device": "d", "mode": "fast", "reboot": 1}, "unknown field(s) in the command: reboot"),
    ({"led": "on"}, "needs a device"),
    ({"device": 7, "led": "on"}, "needs a device"),
])
def test_a_malformed_command_request_is_refused_with_a_reason(request_, words):
    with pytest.raises(server.BadRequest, match=words.replace("(", r"\(").replace(")", r"\)")):
        server.parse_command({"op": "command", **request_})


def test_a_good_command_request():
    assert server.parse_command({"op": "command", "req": 1, "device": "d", "led": "on", "get": True}) == \
        ("d", {"led": "on", "get": True})


def test_the_token_and_the_host():
    assert run.token_for("127.0.0.1", {}) is None and run.token_for("localhost", {}) is None
    assert run.token_for("0.0.0.0", {"PICO_WEB_TOKEN": "x" * 16}) == "x" * 16
    for host, env in (("0.0.0.0", {}), ("192.168.1.2", {}), ("127.0.0.1", {"PICO_WEB_TOKEN": "short"})):
        with pytest.raises(UsageError):
            run.token_for(host, env)


def _serve(test, **kw):
    store = Store()
    store.apply(Batch(cards={"desk": card_of("desk")}))
    sent = []

    def sender(broker, device, fields, **options):
        sent.append((device, fields))
        return Ack("m-1", True, 5, None, 4.2, {"ok": True, "ver": 5})

    async def main():
        srv = server.Server(store, "127.0.0.1:1", sender=sender, **kw)
        async with TestClient(TestServer(srv.app, host="127.0.0.1")) as client:
            await test(client)

    asyncio.run(main())
    return sent


def test_the_websocket_takes_good_requests_and_refuses_bad_ones():
    async def test(client):
        ws = await client.ws_connect("/ws")
        update = await ws.receive_json(timeout=5)
        assert update["type"] == "update" and update["order"] == ["desk"]
        for bad, words in (("{", "not JSON"), ("[1]", "a JSON object"), ('{"op": "shutdown"}', "unknown request"),
                           ('{"op": "command", "device": "nobody", "led": "on"}', "no such device"),
                           ('{"op": "view", "page": "one"}', "a view is")):
            await ws.send_str(bad)
            answer = await ws.receive_json(timeout=5)
            assert answer["type"] == "error" and words in answer["text"], (bad, answer)
        await ws.send_json({"op": "command", "req": 9, "device": "desk", "led": "on"})
        assert (await ws.receive_json(timeout=5))["type"] == "sent"
        ack = await ws.receive_json(timeout=5)
        assert ack == {"type": "ack", "req": 9, "device": "desk", "ok": True, "rtt_ms": 4.2, "error": None,
                       "text": "led on: ok (ver 5) in 4.2 ms"}
        await ws.close()

    assert _serve(test, hosts=("127.0.0.1",)) == [("desk", {"led": "on"})]


def test_without_a_token_only_its_own_address_and_its_own_pages():
    async def test(client):
        assert (await client.get("/")).status == 200
        assert (await client.get("/", headers={"Host": "evil.example:8080"})).status == 403  # DNS rebinding
        assert (await client.get("/static/../server.py")).status == 404
        with pytest.raises(WSServerHandshakeError) as refused:
            await client.ws_connect("/ws", headers={"Origin": "http://evil.example"})
        assert refused.value.status == 403

    assert _serve(test, hosts=("127.0.0.1", "localhost")) == []


def test_the_feed_hands_cards_log_lines_and_points_to_the_store(tmp_path):
    from monitor.live.session import Session
    from monitor.web.feed import Feed

    store = Store()
    feed = Feed(store)
    session = Session(tmp_path / "r.jsonl", "127.0.0.1:1", on_record=feed.on_record, on_finding=feed.on_finding,
                      view=True)  # (never started: fed here by hand, as its thread would)
    feed.session = session
    now = time.time()  # (the timeline keeps the last five minutes)
    records = [rec("desk", "status", {"online": True, "boot": "b0000001", "sess": 1, "seq": 1, "ts": 1}, t=now),
               rec("desk", "event", {"boot": "b0000001", "sess": 1, "seq": 2, "ts": 2, "ver": 1, "kind": "button",
                                     "button": "a", "pressed": True, "presses": 1}, t=now + 0.1),
               rec("desk", "state", {**SNAP, "ver": 1, "seq": 4, "ts": 3}, t=now + 0.2)]  # seq 3 missing
    for line, record in enumerate(records, 1):
        feed.on_record(record)
        session.checker.feed(record, line)
    session.checker.advance(now + 5)
    feed.turn()
    page = Page()
    delta = store.delta(page)
    (card,) = delta["cards"]
    assert card["device"] == "desk" and card["presses"] == {"a": 3, "b": 1} and "lost" in card["findings"]
    kinds = [line["kind"] for line in delta["log"]]
    assert kinds[:2] == ["status", "event button"] and "lost" in kinds  # (a snapshot is not a log line)
    points = delta["timeline"]["points"]
    assert [p["step"] for p in points if p["lane"] == "seq"] == [None, 1, 2]  # the boot's first, then the gap
    assert [p["button"] for p in points if p["lane"] == "press"] == ["a"]
    assert "lost" in [p["kind"] for p in points if p["lane"] == "finding" and p["error"]]
    assert delta["status"]["devices"] == 1 and "lost" in delta["status"]["findings"]
