"""The checker: fed what was received, in arrival order, it finds what was lost, duplicated, reordered,
dropped on the device, inconsistent, unacked or malformed, and says when a node rebooted or reconnected.
It runs in the `record`/`watch` process (`monitor.live`, as the receiver writes) and in `check` (on a file).

It owns the envelope rules of docs/protocol.md and the matching of commands to acks; the device model
(`monitor.model`: `init()`, `step()`, `parse_command()`) owns the state rules. One module per concern:

| module | owns |
|---|---|
| `checker` | `Checker`: routes each line to its part, tallies findings; `check()` a whole recording |
| `clock` | the checker's time (monotonic arrival, wall time only shown, `clock_step` notes) and the timers |
| `ordering` | `seq` order per device and boot: gaps, the reorder timeout, `lost`, `reordered`, `duplicate` |
| `boots` | new boots (`reboot`), Last Wills, retained replays (history, the model's baseline) |
| `delivery` | the model reads each boot's messages in order (with `boot`/`gap` marks); its problems |
| `acks` | commands matched to acks: round trips, `unacked`, acks for no command |
| `absences` | the monitor's own absences (`unseen`), the broker's count of what it dropped |
| `shown` | what the live view shows of each device |
| `devices` | what is kept per device and boot, bounded by `Limits` |
"""

from monitor.checker.checker import COMMAND_TIMEOUT, REORDER_TIMEOUT, Checker, Keeper, check
from monitor.checker.clock import CLOCK_STEP_S, clock_span
from monitor.checker.delivery import BOOT, Mark
from monitor.checker.devices import MAX_DEVICES, Device, Limits, Track

__all__ = ["BOOT", "CLOCK_STEP_S", "COMMAND_TIMEOUT", "MAX_DEVICES", "REORDER_TIMEOUT", "Checker", "Device", "Keeper",
           "Limits", "Mark", "Track", "check", "clock_span"]
