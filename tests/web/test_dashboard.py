"""`python -m monitor web` in a real browser (Debian's headless Chromium, through chromium-driver), against
the real embedded broker, a real virtual node (the firmware in MicroPython) and the monitor as a
subprocess (tests/web/conftest.py): what a person sees on the page, and the board's pins.

The tests run in order on one page and one stack: the page loads, a press, a command, a finding injected
by the fleet simulator, bad requests; each leaves a screenshot. With `PICOSTATE_README_SHOT=1`, the last
one is also written to docs/images/dashboard.png (the README's)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request

from tests.helpers import PY, Child, Recording, wait_until
from tests.outage_harness import ROOT

from .conftest import DEVICE, TOKEN, screenshot, web_env

LED, BUTTON_A = "GP15", "GP14"
README_RATE = "16" if os.environ.get("PICOSTATE_README_SHOT") else "80"
"""The fleet's messages per second: spread over 10 s for the README's picture, else 2 s."""


def card(driver, device=DEVICE):
    """The card's words and classes, read in the page (None: no such card shown)."""
    return driver.execute_script("""
        const c = document.querySelector(`.card[data-device="${CSS.escape(arguments[0])}"]`);
        if (!c) return null;
        return {text: c.innerText, online: c.querySelector('.online-word').textContent,
                a: c.querySelector('.btn-a').classList.contains('held'),
                lit: c.querySelector('.led').classList.contains('lit'),
                presses: c.querySelector('.f-presses').textContent,
                result: c.querySelector('.result').textContent};""", device)


def console_errors(driver):
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def log_lines(driver, level=None):
    return driver.execute_script("""
        return [...document.querySelectorAll('#log li')].filter(li => !arguments[0] || li.classList.contains(arguments[0]))
            .map(li => ({kind: li.dataset.kind, device: li.querySelector('.dev').textContent, text: li.innerText}));""",
                                 level)


def notice(driver):
    return driver.execute_script("const n = document.getElementById('notice'); return n.hidden ? '' : n.textContent;")


def test_the_page_loads_with_no_console_errors(stack, browser):
    browser.get(stack.url + "?token=" + TOKEN)
    assert "token" not in browser.current_url  # (moved into a cookie at once)
    got = wait_until(lambda: (c := card(browser)) and c["online"] == "online" and c, 15,
                     lambda: "the node's card, online; the page says:\n" + browser.find_element("tag name", "body").text)
    assert "no findings" in got["text"] and "presses" in got["text"]
    wait_until(lambda: any(line["device"] == DEVICE and line["kind"] == "status" for line in log_lines(browser)), 5,
               "the node's status in the log")
    assert browser.execute_script("return document.querySelector('#timeline circle, #timeline path.step') !== null")
    assert console_errors(browser) == []
    screenshot(browser, stack.tmp, "1-loaded")


def test_pressing_button_a_lights_the_card(stack, browser, record_property):
    board = stack.node.board
    wait_until(lambda: card(browser), 10, "the card")
    before = card(browser)
    assert not before["a"] and before["presses"].startswith("a 0")
    pressed = time.monotonic()
    board.drive(BUTTON_A, 0)  # held down, as `python -m sim pins ID GP14=0` does
    try:
        shown = wait_until(lambda: (c := card(browser)) and c["a"] and c["presses"].startswith("a 1") and c, 10,
                           lambda: "button A shown held, one press; card: %r" % card(browser))
        took = time.monotonic() - pressed
        record_property("press_to_page_s", round(took, 3))
        print(f"button A pressed on the board -> shown held on the page in {took * 1000:.0f} ms")
        screenshot(browser, stack.tmp, "2-button-a-held")
    finally:
        board.release(BUTTON_A)
    assert shown["a"]
    wait_until(lambda: not card(browser)["a"], 10, "button A shown up again")
    assert card(browser)["presses"].startswith("a 1")
    wait_until(lambda: any(line["kind"] == "event button" and "pressed=true" in line["text"]
                           for line in log_lines(browser)), 5,
               "the press in the log")
    assert console_errors(browser) == []


def test_led_on_sends_a_command_the_ack_shows_and_gp15_goes_high(stack, browser):
    board = stack.node.board
    browser.find_element("css selector", f'.card[data-device="{DEVICE}"] button[data-cmd="led-on"]').click()
    result = wait_until(lambda: "led on: ok" in (r := card(browser)["result"]) and r, 10,
                        lambda: "the ack in the card: %r" % card(browser))
    assert " ms" in result and "(ver " in result, result
    board.wait_for(LED, 1, timeout=5)
    wait_until(lambda: card(browser)["lit"], 10, lambda: "the LED drawn lit; card: %r" % card(browser))
    wait_until(lambda: {"cmd", "ack", "event led"} <= {line["kind"] for line in log_lines(browser)
                                                        if line["device"] == DEVICE}, 5,
               lambda: "the command, its event and its ack in the log: %r" % log_lines(browser)[:8])
    screenshot(browser, stack.tmp, "3-led-on")
    assert console_errors(browser) == []


def test_a_finding_from_the_fleet_appears_in_the_log_and_on_the_timeline(stack, browser):
    done = subprocess.run([PY, "-m", "monitor", "fleet", "4", "--broker", stack.broker.addr, "--prefix", "fleet-",
                           "--messages", "160", "--rate", README_RATE, "--fault", "lost=0.05", "--seed", "7"],
                          cwd=ROOT, env=web_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lost = wait_until(lambda: [line for line in log_lines(browser, "error") if line["kind"] == "lost"], 15,
                      lambda: "a lost finding in the log; log:\n%r" % log_lines(browser)[:20])
    device = lost[0]["device"]
    assert device.startswith("fleet-")
    wait_until(lambda: "lost" in (card(browser, device) or {}).get("text", ""), 10, "the finding on its card")
    browser.find_element("css selector", f'.card[data-device="{device}"] .name').click()
    wait_until(lambda: browser.find_element("id", "timeline-device").text == device, 5, "the card selected")
    marks = wait_until(lambda: browser.execute_script(
        "return [...document.querySelectorAll('#timeline path.finding.error')].map(p => p.dataset.kind)"), 5,
        "the finding's mark on the timeline")
    assert "lost" in marks
    gaps = browser.execute_script("return document.querySelectorAll('#timeline circle.gap').length")
    assert gaps >= 1  # the lost seq: a step of more than 1
    browser.find_element("css selector", '#spans button[data-span="30"]').click()  # zoomed in: the last 30 s
    assert browser.execute_script("return document.querySelector('#timeline path.finding.error') !== null")
    path = screenshot(browser, stack.tmp, "4-fleet-finding")
    if os.environ.get("PICOSTATE_README_SHOT"):
        shutil.copyfile(path, ROOT / "docs" / "images" / "dashboard.png")
    assert console_errors(browser) == []


def test_bad_requests_are_refused_in_the_page_and_change_nothing(stack, browser):
    def refused(request, words):
        browser.execute_script("document.getElementById('notice').hidden = true;"
                               "window.picostate[arguments[0]](arguments[1]);", *request)
        return wait_until(lambda: words in notice(browser) and notice(browser), 5,
                          lambda: "%r refused; notice: %r" % (request, notice(browser)))

    assert "no such device" in refused(("send", {"op": "command", "device": "nobody", "led": "on"}), "no such device")
    assert "led must be one of" in refused(("send", {"op": "command", "device": DEVICE, "led": "purple"}), "led must")
    refused(("send", {"op": "command", "device": DEVICE, "led": "on", "reboot": True}), "unknown field")
    refused(("raw", "{not json"), "not JSON")
    refused(("send", {"op": "select", "device": "nobody"}), "no such device")
    screenshot(browser, stack.tmp, "5-refused")
    # The server goes on: a real command still works, and nothing of the refused ones reached the node.
    browser.find_element("css selector", f'.card[data-device="{DEVICE}"] button[data-cmd="get"]').click()
    wait_until(lambda: "get: ok" in card(browser)["result"], 10, lambda: "the get's ack: %r" % card(browser))
    assert stack.web.alive()
    commands = Recording(stack.out).messages(DEVICE, "cmd")
    assert [{k: c[k] for k in ("led", "mode", "get") if k in c} for c in commands] == [{"led": "on"}, {"get": True}]
    assert not Recording(stack.out).messages("nobody")
    assert console_errors(browser) == []


def test_a_thousand_devices_do_not_make_the_page_fall_behind(stack, browser, record_property):
    fleet = Child([PY, "-m", "monitor", "fleet", "1000", "--broker", stack.broker.addr, "--prefix", "many-",
                   "--messages", "5000", "--rate", "1500", "--seed", "3"], cwd=ROOT, env=web_env())
    try:
        wait_until(lambda: (counts(browser) or {}).get("total", 0) > 300 or not fleet.alive(), 20,
                   "the fleet's devices arriving")
        # Meanwhile the node's own card (found with the filter) still follows its board: a press, shown
        # while the fleet publishes.
        search(browser, DEVICE)
        wait_until(lambda: card(browser), 5, "the node's card, filtered")
        pressed = time.monotonic()
        stack.node.board.press(BUTTON_A, hold=0.3)
        wait_until(lambda: card(browser)["presses"].startswith("a 2"), 10,
                   lambda: "the second press shown; card: %r" % card(browser))
        took = time.monotonic() - pressed
        busy = fleet.alive()
        assert fleet.finish(60) == 0, fleet.output()[-2000:]
    finally:
        fleet.stop()
    record_property("press_to_page_with_1000_devices_s", round(took, 3))
    print(f"with 1000 devices publishing{'' if busy else ' (done by then)'}: a press shown in {took * 1000:.0f} ms")
    wait_until(lambda: (counts(browser) or {}).get("total") == 1005, 20,
               lambda: "every device counted: %r" % counts(browser))
    search(browser, "")
    wait_until(lambda: browser.execute_script("return document.querySelectorAll('.card').length") == 24, 5,
               "a page of cards")
    shown = browser.execute_script("return document.querySelectorAll('.card').length")
    assert shown == 24, shown  # a page of them, not a thousand
    assert "of 1005 devices" in browser.find_element("id", "pages").text
    search(browser, "many-0099")
    wait_until(lambda: browser.execute_script("return [...document.querySelectorAll('.card')].map(c => c.dataset.device)")
               == ["many-00990", "many-00991", "many-00992", "many-00993", "many-00994", "many-00995", "many-00996",
                   "many-00997", "many-00998", "many-00999"], 5, "the filter's ten devices")
    screenshot(browser, stack.tmp, "6-filtered")
    search(browser, "")
    assert console_errors(browser) == []


def search(driver, text):
    """Type `text` into the filter box (replacing what it held), as a person does."""
    box = driver.find_element("id", "filter")
    box.clear()
    box.send_keys(text or " \b")  # (clear() alone fires no input event)


def counts(driver):
    return driver.execute_script("return window.picostate.counts && window.picostate.counts();")


def test_requests_without_the_token_are_refused(stack):
    for path, headers in (("", {}), ("static/app.js", {}), ("ws", {}), ("", {"Authorization": "Bearer wrong-token"})):
        try:
            urllib.request.urlopen(urllib.request.Request(stack.url + path, headers=headers), timeout=5)
            raise AssertionError(f"/{path} served without the token")
        except urllib.error.HTTPError as exc:
            assert exc.code == 401, (path, exc.code)
    with urllib.request.urlopen(urllib.request.Request(stack.url, headers={"Authorization": "Bearer " + TOKEN}),
                                timeout=5) as answer:
        assert answer.status == 200 and b"picostate" in answer.read()
    try:  # another site's page, with the user's cookie: no WebSocket
        urllib.request.urlopen(urllib.request.Request(stack.url + "ws", headers={
            "Authorization": "Bearer " + TOKEN, "Origin": "http://evil.example"}), timeout=5)
        raise AssertionError("a WebSocket for another site's page")
    except urllib.error.HTTPError as exc:
        assert exc.code == 403


def test_another_host_without_a_token_is_refused():
    for env in (web_env(), web_env(PICO_WEB_TOKEN="short")):
        done = subprocess.run([PY, "-m", "monitor", "web", "--host", "0.0.0.0", "--port", "1"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=30)
        assert done.returncode == 2, done
        assert done.stdout == "" and len(done.stderr.splitlines()) == 1, done.stderr
        assert done.stderr.startswith("monitor: ") and "PICO_WEB_TOKEN" in done.stderr


def test_a_port_already_taken_is_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([PY, "-m", "monitor", "web", "--port", str(port), "--broker", "127.0.0.1:1"],
                              cwd=ROOT, env=web_env(), capture_output=True, text=True, timeout=30)
    assert done.returncode == 2, done
    assert done.stderr.startswith(f"monitor: cannot listen on 127.0.0.1:{port}: ") and done.stderr.count("\n") == 1
