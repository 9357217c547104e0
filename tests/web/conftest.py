"""The browser tests' pieces: Debian's headless Chromium driven through chromium-driver (selenium), and one
stack per module: the embedded broker, a virtual node (`python -m sim node`, the firmware in MicroPython)
and `python -m monitor web` as a subprocess on a free port, with a token. Screenshots go to the test's
temporary folder and are copied for a person to `PICOSTATE_SCREENSHOTS` (default
<temp>/picostate-web-screenshots), said at the end of the run."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import PY, Child, fail_or_skip, free_port
from tests.outage_harness import ROOT, BrokerProcess, NodeProcess

DEVICE = "web-node"
TOKEN = "web-test-token-0123456789abcdef"
SCREENSHOTS = Path(os.environ.get("PICOSTATE_SCREENSHOTS") or Path(tempfile.gettempdir()) / "picostate-web-screenshots")
_saved: list[Path] = []


@dataclass
class Stack:
    broker: BrokerProcess
    node: NodeProcess
    web: Child
    url: str
    out: Path
    tmp: Path


def web_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PICO_WEB_TOKEN"}
    env["PYTHONPATH"] = str(ROOT)
    return {**env, **extra}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("web")
    broker = BrokerProcess("amqtt", tmp).start()
    web = node = None
    try:
        port = free_port()
        out = tmp / "web.jsonl"
        web = Child([PY, "-m", "monitor", "web", "--broker", broker.addr, "--port", str(port), "--out", str(out)],
                    apart=True, cwd=ROOT, env=web_env(PICO_WEB_TOKEN=TOKEN))
        web.wait_line("dashboard at", 30)
        node = NodeProcess(broker.addr, DEVICE, tmp / "board")
        node.wait_connected(1, 30)
        yield Stack(broker, node, web, f"http://127.0.0.1:{port}/", out, tmp)
    finally:
        if web is not None:
            status = web.stop()
            assert status == 0, web.output()[-3000:]
            assert any(line.startswith("monitor: recorded ") for line in web.err), web.output()[-3000:]
        if node is not None:
            node.stop()
        broker.stop()


@pytest.fixture(scope="module")
def browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        fail_or_skip("selenium is not installed (pip install -e '.[test]')")
    chromium = shutil.which("chromium")
    driver_exe = shutil.which("chromedriver")
    if not chromium or not driver_exe:
        fail_or_skip("chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1440,900", "--force-device-scale-factor=1", "--disable-extensions"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_exe), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver, tmp: Path, name: str) -> Path:
    """Save what the browser shows as NAME.png in `tmp`, and a copy for a person (said at the end)."""
    path = tmp / f"{name}.png"
    driver.save_screenshot(str(path))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    copy = SCREENSHOTS / path.name
    shutil.copyfile(path, copy)
    _saved.append(copy)
    return path


def pytest_terminal_summary(terminalreporter):
    if _saved:
        terminalreporter.write_line(f"monitor web: {len(_saved)} screenshot(s) for a person to look at in "
                                    f"{SCREENSHOTS}: {', '.join(p.name for p in _saved)}")
