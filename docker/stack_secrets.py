"""The compose stack's `secrets` service: makes, once, everything the stack needs to run with users, the
per-device ACL and TLS, on the `secrets` volume, with the broker's own commands:

    DIR/certs/      `python -m broker certs` for the host names `broker` (inside the stack) and
                    `localhost`, `127.0.0.1` (from the host, through the published port): ca.pem, ...
    DIR/users/      `python -m broker user add` for each user of USERS: users, mosquitto.passwd/.acl
    DIR/passwords/  one file per user with its password (random), mode 0600
    DIR/ready       written last: a volume that has it is kept as it is (the stack's secrets are made
                    once); one without it (an earlier run stopped half-way) is emptied and made again.

Passwords go to `python -m broker user add` in its environment (PICO_MQTT_PASSWORD), never in its
arguments, and are never printed. The services read theirs from DIR/passwords/NAME the same way.

    python docker/stack_secrets.py DIR
"""

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

PROG = "stack_secrets"
HOSTS = ("broker", "localhost", "127.0.0.1")
# Who logs in to the stack's broker: the node (its user name is its device id, PICO_DEVICE), a second node
# that the security tests play (it must not reach stack-node), the monitor's recorder (and the node's
# health check), the tests (a monitor: it commands the node), and a Home Assistant user for the tests
# (the one role that may publish on homeassistant/status, which every node reads: the tests' marker).
USERS = (("stack-node", []), ("stack-other", []), ("stack-monitor", ["--monitor"]), ("stack-tests", ["--monitor"]),
         ("stack-hass", ["--homeassistant"]))


class Failed(Exception):
    pass


def broker(*args, password=None):
    """`python -m broker ARGS`, with `password` in its environment only; its output is passed through
    (it never holds a password)."""
    env = {k: v for k, v in os.environ.items() if k != "PICO_MQTT_PASSWORD"}
    if password is not None:
        env["PICO_MQTT_PASSWORD"] = password
    done = subprocess.run([sys.executable, "-m", "broker", *args], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120)
    sys.stdout.write(done.stdout)
    if done.returncode != 0:
        raise Failed("python -m broker %s %s: %s" % (args[0], args[1], done.stderr.strip() or "failed"))


def write_secret(path, text):
    """`text` to a new file `path`, mode 0600 from its creation (never readable by others, even briefly)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def make(root):
    root = Path(root)
    if (root / "ready").exists():
        print("%s: %s holds the stack's secrets already: kept" % (PROG, root), flush=True)
        return
    for old in root.iterdir():   # what a run stopped half-way left
        shutil.rmtree(old) if old.is_dir() and not old.is_symlink() else old.unlink()
    for sub in ("certs", "users", "passwords"):
        (root / sub).mkdir(mode=0o700)
    args = ["certs", str(root / "certs")]
    for host in HOSTS:
        args += ["--host", host]
    broker(*args)
    for name, flags in USERS:
        password = secrets.token_urlsafe(24)
        write_secret(root / "passwords" / name, password)
        broker("user", "add", str(root / "users" / "users"), name, *flags, password=password)
    (root / "ready").write_text("made by docker/stack_secrets.py\n")
    print("%s: made the stack's CA, server certificate and %d users in %s" % (PROG, len(USERS), root), flush=True)


def main(argv):
    if len(argv) != 1:
        print("usage: python docker/stack_secrets.py DIR", file=sys.stderr)
        return 2
    try:
        make(argv[0])
    except (Failed, OSError) as e:
        print("%s: %s" % (PROG, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
