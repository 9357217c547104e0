"""Is this board one to deploy to? Pure rules on what the board's probe reported.

- MicroPython 1.25 or newer (the first with the Pico 2 W).
- `sys.implementation._machine` containing "Pico 2 W": go ahead. "Pico W": a warning (the node
  runs, in less memory; it is not what the node is tested for). Anything else: refused unless
  --force.
- The virtual board (`python -m sim board`): its interpreter is the unix port, so `_machine` says
  "linux ..."; it is recognised by its own `_simboard` module, which exists only there, and counts
  as a Pico 2 W (it simulates one).
"""

from deploy.settings import is_loopback

MIN_VERSION = (1, 25, 0)


def version_text(version):
    return ".".join(str(v) for v in version[:3])


def assess(info, force=False):
    """(verdict, words): verdict 'ok', 'warn' or 'refuse'; words describe the board."""
    machine = info.get("machine") or "unknown"
    version = tuple(info.get("version") or (0, 0, 0))
    described = f"{machine}, MicroPython {version_text(version)}"
    if info.get("virtual"):
        described = f"the virtual Pico 2 W ({machine}), MicroPython {version_text(version)}"
    if version < MIN_VERSION:
        return "refuse", (f"MicroPython {version_text(version)} is too old: the node needs "
                          f"{version_text(MIN_VERSION)} or newer (flash a current .uf2 from "
                          "micropython.org/download/RPI_PICO2_W)")
    if "Pico 2 W" in machine or info.get("virtual"):
        return "ok", described
    if "Pico W" in machine:
        return "warn", described + ": a Pico W, not a Pico 2 W; the node runs, with less memory"
    if force:
        return "warn", described + ": not a Pico 2 W; going ahead because of --force"
    return "refuse", described + " is not a Pico 2 W (use --force to deploy anyway)"


def is_real_pico(info):
    """A board that reaches the network only over its own Wi-Fi."""
    return not info.get("virtual") and "Pico" in (info.get("machine") or "")


def network_problem(info, wifi, broker_host, force=False):
    """Why a real Pico could never reach the broker with these settings, or None. A Pico's only
    network is its Wi-Fi, and 127.0.0.1 there is the board itself. --force skips the check."""
    if force or not is_real_pico(info):
        return None
    if wifi is None:
        return "a Pico reaches the broker over Wi-Fi: give --wifi SSID"
    if is_loopback(broker_host):
        return (f"--broker {broker_host} would be the board itself: give the laptop's address on "
                "the Wi-Fi network")
    return None
