"""The node's state rules: what a button edge or a command does to the state.

Pure: no I/O, no clock. The caller holds the state lock and passes the state dict in; each function
changes it in place and returns the events it caused, one per change, each stamped with the `ver`
that change produced. The monitor checks against its own, separately written model of these rules.
"""

MODES = ("slow", "fast")
LED_POLICIES = ("on", "off", "auto")
BUTTONS = ("a", "b")


def initial():
    return {
        "ver": 0,
        "led": "auto",
        "mode": "slow",
        "buttons": {"a": False, "b": False},
        "presses": {"a": 0, "b": 0},
    }


def _changed(state, event):
    state["ver"] += 1
    event["ver"] = state["ver"]
    return event


def button_edge(state, button, pressed):
    """A debounced edge of button `a` or `b`. Pressing B also toggles the mode."""
    if state["buttons"][button] == pressed:
        return []
    state["buttons"][button] = pressed
    if pressed:
        state["presses"][button] += 1
    events = [_changed(state, {"kind": "button", "button": button, "pressed": pressed,
                               "presses": state["presses"][button]})]
    if pressed and button == "b":
        state["mode"] = "fast" if state["mode"] == "slow" else "slow"
        events.append(_changed(state, {"kind": "mode", "mode": state["mode"], "by": "button"}))
    return events


def apply_command(state, cmd_id, fields):
    """A validated command. Each field that differs is one change: led first, then mode."""
    events = []
    led = fields.get("led")
    if led is not None and led != state["led"]:
        state["led"] = led
        events.append(_changed(state, {"kind": "led", "led": led, "by": "cmd", "cmd": cmd_id}))
    mode = fields.get("mode")
    if mode is not None and mode != state["mode"]:
        state["mode"] = mode
        events.append(_changed(state, {"kind": "mode", "mode": mode, "by": "cmd", "cmd": cmd_id}))
    return events
