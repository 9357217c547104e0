"""`python -m deploy` onto the virtual board's serial port, as a new user would: real mpremote,
real mpy-cross, a local mip index, a real broker, the real monitor. The path of issue 9's "Done
when": an empty board gets the node, boots it from .mpy, comes online, answers commands, its
recording checks clean, and a second deploy copies nothing and restarts it."""

import json
import os
import subprocess

import paho.mqtt.client as mqtt

from tests.deploy.conftest import ROOT, run_deploy
from tests.helpers import PY, Child, Recording, wait_until


def deploy_args(board, broker, index, *extra):
    return ["--port", board.port, "--broker", broker.addr, "--index", str(index), *extra]


def online_line(stdout, device):
    lines = [line for line in stdout.splitlines() if line.startswith(f"{device} is online:")]
    assert lines, stdout
    return lines[0]


def test_empty_board_to_online_node_and_again(boards, broker, mip_index, tmp_path):
    # The board's path: the node joins the virtual board's access point with a password.
    board = boards(env={"SIM_AP_PASSWORD": "pw-4711"})
    wifi = ("--wifi", "sim-ap")
    env = {"PICO_WIFI_PASSWORD": "pw-4711"}
    out_file = tmp_path / "recording.jsonl"
    recorder = Child([PY, "-m", "monitor", "record", "--broker", broker.addr, "--out", str(out_file)],
                     cwd=ROOT)
    try:
        recorder.wait_line("recording")
        code, out, err = run_deploy(*deploy_args(board, broker, mip_index, "--id", "desk", *wifi),
                                    env=env)
        assert code == 0, out + err
        assert err == ""
        first = online_line(out, "desk")
        assert "firmware 0.1.0" in first and "free heap" in first and "unknown" not in first
        assert f"python -m monitor send desk --led on --broker {broker.addr}" in out
        assert f"python -m monitor watch --broker {broker.addr}" in out

        # On the flash: umqtt.simple from the index, the node compiled, only main/boot/config as source.
        tree = board.tree()
        assert "lib/umqtt/simple.mpy" in tree
        sources = sorted(p for p in tree if p.endswith(".py"))
        assert sources == ["boot.py", "firmware/a/config.py", "firmware/a/config_local.py",
                           "firmware/a/secrets.py", "main.py"]
        assert len([p for p in tree if p.startswith("firmware/a/lib/") and p.endswith(".mpy")]) >= 20
        assert tree["firmware/active"] == b"a"
        assert b"DEVICE_ID = 'desk'" in tree["firmware/a/config_local.py"]

        send = subprocess.run([PY, "-m", "monitor", "send", "desk", "--led", "on", "--broker",
                               broker.addr], capture_output=True, text=True, timeout=20, cwd=ROOT)
        assert send.returncode == 0, send.stdout + send.stderr
        assert json.loads(send.stdout.splitlines()[0])["ok"] is True

        # A second deploy: nothing copied, nothing rewritten, and the node restarted (a new boot).
        stamps = board.stamps()
        code, out, err = run_deploy(*deploy_args(board, broker, mip_index, "--id", "desk", *wifi),
                                    env=env)
        assert code == 0, out + err
        assert "nothing to copy" in out and "umqtt" not in out.replace("python -m", "")
        assert board.stamps() == stamps
        second = online_line(out, "desk")
        boot_of = lambda line: line.rsplit("boot ", 1)[1]
        assert boot_of(second) != boot_of(first)
        rec = Recording(out_file)
        rec.wait_for("desk", "status", lambda m: m.get("online") and m["boot"] == boot_of(second),
                     what="the second boot's status online")
        rec.wait_for("desk", "state", lambda m: m["boot"] == boot_of(second), what="a snapshot")
    finally:
        recorder.stop()
    check = subprocess.run([PY, "-m", "monitor", "check", str(out_file)], capture_output=True,
                           text=True, timeout=60, cwd=ROOT)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "desk" in check.stdout


def test_dry_run_changes_nothing(boards, broker, mip_index):
    board = boards()
    code, out, err = run_deploy(*deploy_args(board, broker, mip_index, "--id", "dry", "--dry-run"))
    assert code == 0, out + err
    assert "plan: would install umqtt.simple into /lib with mip" in out
    assert "plan:   copy /firmware/a/lib/app.mpy" in out
    assert board.tree() == {}


def test_changes_go_to_the_other_copy_stale_files_go_and_a_whole_copy_is_reused(boards, broker, mip_index):
    board = boards()
    code, out, err = run_deploy(*deploy_args(board, broker, mip_index, "--id", "ab-1", "--no-mpy"))
    assert code == 0, out + err
    assert (board.flash / "firmware/a/lib/app.py").is_file()
    code, out, err = run_deploy(*deploy_args(board, broker, mip_index, "--id", "ab-2"))
    assert code == 0, out + err
    online_line(out, "ab-2")
    assert board.tree()["firmware/active"] == b"b"
    # Copy a held sources: each would shadow the .mpy beside it, so all of them go.
    code, out, err = run_deploy(*deploy_args(board, broker, mip_index, "--id", "ab-1"))
    assert code == 0, out + err
    online_line(out, "ab-1")
    lib = sorted(p.name for p in (board.flash / "firmware/a/lib").iterdir())
    assert lib and all(name.endswith(".mpy") for name in lib), lib
    # Back to the second settings: copy b holds them whole, so nothing is copied, only switched.
    code, out, err = run_deploy(*deploy_args(board, broker, mip_index, "--id", "ab-2"))
    assert code == 0, out + err
    assert "copy: 0 files written" in out and "boot copy b from now on (was a)" in out
    online_line(out, "ab-2")


def _statuses(broker):
    """Collects (device, payload) of every pico/+/status message as it comes, retained ones first."""
    seen = []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"t-status-{os.getpid()}")
    client.on_connect = lambda c, *a: c.subscribe("pico/+/status", qos=1)
    client.on_message = lambda c, u, m: seen.append((m.topic.split("/")[1], json.loads(m.payload), m.retain))
    client.connect(broker.host, broker.port)
    client.loop_start()
    return client, seen


def test_a_deploy_killed_in_the_middle_of_the_copy_boots_old_or_new_never_a_mix(
        boards, broker, mip_index, tmp_path):
    board = boards()
    assert run_deploy(*deploy_args(board, broker, mip_index, "--id", "old"))[0] == 0
    client, seen = _statuses(broker)
    try:
        wait_until(lambda: any(d == "old" for d, _, _ in seen), 10, "old's retained status")
        before = len(seen)
        # Sources (--no-mpy): a new copy of a few dozen files; the deploy, mpremote with it, is
        # killed as soon as the first file is in copy b.
        deploy = Child([PY, "-m", "deploy", *deploy_args(board, broker, mip_index, "--id", "new", "--no-mpy")],
                       cwd=ROOT, env={**os.environ, "TMPDIR": str(tmp_path)})
        try:
            wait_until(lambda: list((board.flash / "firmware" / "b").rglob("*.py")), 30,
                       "the copy into firmware b to begin")
        finally:
            deploy.kill()       # the deploy and its mpremote, with no chance to clean up
        # The board sits in the raw REPL with the watchdog armed: it resets by itself within 8 s
        # and boots whichever copy /firmware/active names: the old one, unless the kill came after
        # the switch (the copy of a few dozen files rarely ends that fast).
        booted = wait_until(lambda: [d for d, m, _ in seen[before:] if m.get("online")], 30,
                            "a node to come online after the watchdog reset")
    finally:
        client.loop_stop()
        client.disconnect()
    active = board.tree()["firmware/active"]
    assert (booted[0], active) in (("old", b"a"), ("new", b"b"))
    # And the next deploy finishes the job, and removes the private folder the killed one left.
    assert list(tmp_path.glob("deploy-*"))
    code, out, err = run_deploy(*deploy_args(board, broker, mip_index, "--id", "new", "--no-mpy"),
                                env={"TMPDIR": str(tmp_path)})
    assert code == 0, out + err
    online_line(out, "new")
    assert not list(tmp_path.glob("deploy-*"))
