"""`python -m deploy`: the node onto a board in one command, as one pipeline of named steps
(in the manner of ESPHome's `esphome run`): find, build, broker, check, plan, umqtt, copy, reset,
wait, then logs with --logs. A step that fails raises DeployError; the pipeline prints it as the one
line `deploy: <step>: <what>` and exits with status 1 (usage errors: 2). A board stopped by the
deploy is restarted with whatever firmware it boots.

`python -m deploy index DIR` writes a local mip index serving umqtt.simple (see index.py).
"""

import argparse
import shutil
import sys
import time
from pathlib import Path

from deploy import build, checks, layout, onboard, online, plan, ports, settings
from deploy.errors import DeployError
from deploy.remote import Remote

WAIT_S = 60.0          # Wi-Fi (up to 20 s), then the broker: a node takes a few seconds
CP_GROUP = 8           # files per `cp` between two watchdog feeds (each cp is a few round trips)
MONITOR = "python -m monitor"


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def build_parser():
    p = _Parser(prog="python -m deploy",
                description="Put the node firmware on a MicroPython board (a Pico 2 W, or the "
                            "virtual board's serial port) and wait until it is online. "
                            "Passwords come from PICO_WIFI_PASSWORD and PICO_MQTT_PASSWORD, or "
                            "are asked for. `python -m deploy index DIR` writes a local mip index.")
    p.add_argument("--port", help="the board's serial port (default: the one MicroPython board "
                                  "attached; a virtual board: DIR/serial)")
    p.add_argument("--broker", required=True, metavar="HOST[:PORT]",
                   help="the MQTT broker as the board reaches it (port 1883 if not given, 8883 with --ca)")
    p.add_argument("--wifi", metavar="SSID", help="the Wi-Fi network the board joins")
    p.add_argument("--country", metavar="CC", help="the Wi-Fi country code (config.py: GB)")
    p.add_argument("--id", dest="device_id", metavar="ID",
                   help="the device id (default: pico- and the hex of the board's unique id)")
    p.add_argument("--user", metavar="NAME", help="the broker user name (a node's is its device id); "
                                                  "the password from PICO_MQTT_PASSWORD or a prompt")
    p.add_argument("--ca", metavar="FILE", help="the broker's CA certificate (PEM or DER, e.g. "
                                                "python -m broker certs' ca.pem): the node speaks TLS "
                                                "and verifies the broker's certificate and name")
    p.add_argument("--index", metavar="URL|DIR", help="the mip index for umqtt.simple "
                                                      "(default: micropython-lib's)")
    p.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                   help="another node/config.py setting for this board, e.g. WDT_TIMEOUT_MS=None "
                        "(VALUE a Python literal, else text)")
    p.add_argument("--no-mpy", action="store_true", help="copy .py sources instead of .mpy")
    p.add_argument("--dry-run", action="store_true",
                   help="print what would change and change nothing (the node is restarted)")
    p.add_argument("--logs", action="store_true", help="then follow the board's console until Ctrl-C")
    p.add_argument("--force", action="store_true", help="deploy to a board that is not a Pico 2 W")
    return p


def parse_args(argv):
    args = build_parser().parse_args(argv)
    try:
        args.broker_host, args.broker_port = settings.parse_broker(
            args.broker, settings.DEFAULT_TLS_PORT if args.ca else settings.DEFAULT_BROKER_PORT)
        if args.device_id is not None:
            settings.check_device_id(args.device_id)
        if args.country is not None:
            args.country = settings.check_country(args.country)
        args.settings = [settings.parse_setting(text) for text in args.settings]
        if args.index is not None and "://" not in args.index:
            folder = Path(args.index).resolve()
            if not (folder / "package").is_dir():
                raise ValueError(f"--index {args.index}: no mip index there (make one with "
                                 "python -m deploy index DIR)")
            args.index = str(folder)
    except ValueError as e:
        raise UsageError(str(e)) from None
    return args


def say(step, text):
    print(f"{step}: {text}", flush=True)


class Deploy:
    """One deploy: the state the steps share, and the pipeline."""

    def __init__(self, args):
        self.args = args
        self.port = None
        self.remote = None
        self.workdir = None
        self.build = None
        self.info = None
        self.files = None
        self.plan = None
        self.watch = None
        self.console = None
        self.reset_done = False
        self.device_id = None
        self.broker_password = None
        self.ca_der = None

    def steps(self):
        steps = [("find", self.find), ("build", self.make_build)]
        if not self.args.dry_run:
            steps.append(("broker", self.watch_broker))
        steps += [("check", self.check), ("plan", self.make_plan)]
        if self.args.dry_run:
            return steps + [("reset", self.reset)]
        steps += [("umqtt", self.umqtt), ("copy", self.copy), ("reset", self.reset),
                  ("wait", self.wait)]
        if self.args.logs:
            steps.append(("logs", self.logs))
        return steps

    def run(self):
        try:
            for name, step in self.steps():
                code = step()
                if code:
                    return code
            return 0
        except DeployError as e:
            print(f"deploy: {e.step}: {e}", file=sys.stderr, flush=True)
            self.restart_after_failure()
            return 1
        except KeyboardInterrupt:
            print("deploy: interrupted", file=sys.stderr, flush=True)
            self.restart_after_failure()
            return 130
        finally:
            self.release()

    # -- the steps ---------------------------------------------------------------------------

    def find(self):
        self.port = ports.find(self.args.port)
        ports.check_free(self.port)
        self.remote = Remote(self.port)
        say("find", self.port)

    def make_build(self):
        a = self.args
        try:
            wifi_password = (settings.password(settings.WIFI_PASSWORD_ENV, f"Wi-Fi ({a.wifi})")
                             if a.wifi is not None else None)
            broker_password = (settings.password(settings.MQTT_PASSWORD_ENV, f"broker ({a.user})")
                               if a.user is not None else None)
        except ValueError as e:
            raise DeployError("build", str(e)) from None
        self.broker_password = broker_password   # the laptop's own look at the broker uses it too
        secrets = settings.secrets_text(wifi_password, broker_password)
        self.ca_der = ca = build.ca_der(a.ca) if a.ca is not None else None
        local = settings.config_local_text(a.broker_host, a.broker_port, a.wifi, a.device_id,
                                           a.user, a.country, a.settings,
                                           with_secrets=secrets is not None,
                                           ca=build.CA_FILE if ca is not None else None)
        self.workdir = build.private_dir()
        self.build = build.build(self.workdir / "firmware", local, secrets, mpy=not a.no_mpy, ca_der=ca)
        kind = "source (--no-mpy)" if a.no_mpy else ".mpy"
        say("build", f"{sum(1 for r in self.build.slot if r.startswith('lib/'))} modules as {kind}")

    def check(self):
        output = self.remote.run("check", self.script("probe", onboard.probe_script()), timeout=30)
        try:
            self.info, self.files = onboard.parse_probe(output)
        except ValueError as e:
            raise DeployError("check", str(e)) from None
        verdict, words = checks.assess(self.info, self.args.force)
        if verdict == "refuse":
            raise DeployError("check", words)
        a = self.args
        problem = checks.network_problem(self.info, a.wifi, a.broker_host, a.force)
        if problem:
            raise DeployError("check", problem)
        self.device_id = a.device_id or "pico-" + self.info["uid"]
        say("check", ("warning: " if verdict == "warn" else "") + words)
        say("check", f"device id {self.device_id}")

    def make_plan(self):
        self.plan = plan.make_plan(self.build, self.info, self.files)
        prefix = "would " if self.args.dry_run else ""
        for line in plan.describe(self.plan, each_file=self.args.dry_run):
            say("plan", prefix + line if not line.startswith(" ") else line)
        if self.plan.flash_full:
            raise DeployError("plan", f"the flash is full: the firmware needs about "
                                      f"{self.plan.need_bytes // 1024} KiB, the board has "
                                      f"{self.plan.free_bytes // 1024} KiB free (mpremote fs ls, "
                                      "then fs rm what is not needed)")

    def umqtt(self):
        if not self.plan.install_umqtt:
            return
        command = ["mip", "install", "--target", layout.MIP_TARGET]
        if self.args.index:
            command += ["--index", self.args.index]
        if self.args.no_mpy:
            command.append("--no-mpy")
        try:
            self.remote.run("umqtt", ["exec", onboard.WDT_FEED], command + ["umqtt.simple"],
                            timeout=120)
        except DeployError as e:
            hint = "" if self.args.index else " (offline? python -m deploy index DIR, then --index DIR)"
            raise DeployError("umqtt", f"mip could not install umqtt.simple: {e}{hint}") from None
        say("umqtt", f"installed umqtt.simple into {layout.MIP_TARGET}")

    def copy(self):
        p = self.plan
        if not p.changes_files:
            say("copy", "nothing to copy")
            return
        commands = [self.script("prepare", onboard.prepare_script(p.dirs, p.remove))]
        groups = {}
        singles = []
        for local, remote_path, _ in p.copy:
            folder, _, name = remote_path.rpartition("/")
            if name == local.name:
                groups.setdefault(folder, []).append(str(local))
            else:
                singles.append((str(local), remote_path))
        batch = 0
        for folder, sources in groups.items():
            for i in range(0, len(sources), CP_GROUP):
                if batch:
                    commands.append(["exec", onboard.WDT_FEED])
                commands.append(["fs", "cp", "-f", *sources[i:i + CP_GROUP], f":{folder}/"])
                batch += 1
        for local, remote_path in singles:
            commands += [["exec", onboard.WDT_FEED], ["fs", "cp", "-f", local, ":" + remote_path]]
        commands.append(self.script("switch", onboard.switch_script(p.expect, p.renames, p.slot)))
        try:
            self.remote.run("copy", *commands, timeout=300)
        except DeployError as e:
            raise DeployError("copy", f"{e}; nothing was switched: the board boots the firmware "
                                      "it had") from None
        say("copy", f"{plan.files_text(len(p.copy))} written, {len(p.remove)} removed, every file "
                    f"checked; copy {p.slot} boots from now on")

    def watch_broker(self):
        a = self.args
        self.watch = online.StatusWatch(a.broker_host, a.broker_port, a.user, self.broker_password,
                                        self.ca_der)
        if self.watch.error:
            say("broker", f"note: {self.watch.error}; the node will be awaited on its console only")
        else:
            say("broker", f"watching pico/+/status on {a.broker_host}:{a.broker_port}")

    def reset(self):
        a = self.args
        self.remote.run("reset", ["exec", onboard.WDT_FEED], ["reset"], timeout=30)
        self.reset_done = True
        if a.dry_run:
            say("reset", "the board was restarted; dry run: nothing changed on it")
        else:
            say("reset", "the board restarts")

    def wait(self):
        a = self.args
        watch = self.watch if self.watch and not self.watch.error else None
        say("wait", f"for {self.device_id} to come online (at most {WAIT_S:g} s)")
        result, self.console = online.wait(self.port, self.device_id, watch, WAIT_S)
        device = result.device_id or self.device_id
        heap = f"{result.heap} bytes" if result.heap is not None else "unknown (no console line)"
        print(f"{device} is online: firmware {result.fw or 'unknown'}, free heap {heap}, "
              f"boot {result.boot or 'unknown'}")
        broker = f"{a.broker_host}:{a.broker_port}"
        if settings.is_loopback(a.broker_host) and not a.ca:   # TLS: the name the certificate is for
            broker = f"127.0.0.1:{a.broker_port}"
        print("Next:")
        tls = (f" --tls-ca {a.ca}" if a.ca else "") + (" --user MONITOR-USER" if a.user else "")
        print(f"  {MONITOR} watch --broker {broker}{tls}")
        print(f"  {MONITOR} send {device} --led on --broker {broker}{tls}")
        print(f"  mpremote connect {self.port} repl      (the node's console; Ctrl-] leaves)")

    def logs(self):
        say("logs", f"following {self.port}; Ctrl-C stops")
        # The console thread now prints: swap its sink, then wait for Ctrl-C.
        self.console.on_line = lambda line: print(line, flush=True)
        try:
            while True:
                time.sleep(0.5)
        except KeyboardInterrupt:
            return 0

    # -- around the steps --------------------------------------------------------------------

    def script(self, name, text):
        """An mpremote command running `text` on the board from a file in the private folder:
        the hashes it carries (secrets.py's among them) stay off the command line."""
        path = self.workdir / f"{name}.py"
        path.write_text(text)
        return ["run", str(path)]

    def restart_after_failure(self):
        """A board stopped by this deploy is restarted (it boots its old firmware, or the new
        one if the switch was made): never left sitting in the raw REPL."""
        if self.remote is None or not self.remote.started or self.reset_done:
            return
        try:
            self.remote.run("reset", ["exec", onboard.WDT_FEED], ["reset"], timeout=15)
            say("reset", "the board was restarted with the firmware it boots")
        except DeployError:
            pass

    def release(self):
        if self.console is not None:
            self.console.close()
        if self.watch is not None:
            self.watch.close()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)


def index_main(argv):
    p = _Parser(prog="python -m deploy index",
                description="Write a local mip index serving umqtt.simple (the copy make setup "
                            "fetched), for python -m deploy --index DIR.")
    p.add_argument("dir", metavar="DIR")
    args = p.parse_args(argv)
    from deploy.index import write_umqtt_index

    path = write_umqtt_index(args.dir)
    print(f"index: umqtt.simple in {path.resolve()} (use --index {path.resolve()})")
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        if argv[:1] == ["index"]:
            return index_main(argv[1:])
        args = parse_args(argv)
    except UsageError as e:
        print(f"deploy: {e}", file=sys.stderr)
        return 2
    except DeployError as e:
        print(f"deploy: {e.step}: {e}", file=sys.stderr)
        return 1
    return Deploy(args).run()
