"""The device model: what a node's state must be, given the messages it published. Pure.

`init()` is the model before any snapshot (nothing known); `from_snapshot(body)` is the state a `state`
payload shows; `step(state, message)` returns the next state and the problems the message shows,
never mutating anything and doing no I/O. The model knows the meaning of `led`, `mode`, `buttons`,
`presses` and `ver` (docs/protocol.md, "State and versions"); it knows nothing of `seq`, boots or
arrival order: the checker feeds it one boot's messages in `seq` order.

Rules:
- the first snapshot seen (retained or live) is the baseline; later retained snapshots are history
  and ignored;
- an event must carry `ver` = model ver + 1; a `button` edge flips `buttons[b]` and a press raises
  `presses[b]` by exactly one; `mode` and `led` events set (and change) those;
- a live snapshot with `ver` equal to the model's must show the model's `led`, `mode`, `buttons`,
  `presses`; an `ok` ack must carry the model's `ver` (a command's events precede its ack);
- when versions were skipped (missing events) the model cannot know the state: it says `unknown` and
  waits for the next snapshot; a version going backwards is `inconsistent`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

LEDS = ("on", "off", "auto")
MODES = ("slow", "fast")
BUTTONS = ("a", "b")
EVENT_KINDS = ("button", "mode", "led")
CAUSES = ("button", "cmd")

INCONSISTENT = "inconsistent"
UNKNOWN = "unknown"
MALFORMED = "malformed"


class ModelInput(Protocol):
    """What the model reads of a message: its kind, its JSON body, whether it is a retained replay."""

    kind: str
    body: Any
    retained: bool


@dataclass(frozen=True)
class State:
    """The node's state as far as the model knows it; `known` is false before a baseline snapshot."""

    known: bool = False
    ver: int = 0
    led: str | None = None
    mode: str | None = None
    buttons: tuple[tuple[str, bool], ...] = ()
    presses: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Problem:
    """What is wrong with (or unknowable about) one message; `expected`/`seen` are the witness."""

    kind: str
    detail: str
    expected: Mapping[str, Any] | None = None
    seen: Mapping[str, Any] | None = None


def init() -> State:
    """The model before any snapshot: nothing known."""
    return State()


def view(state: State) -> dict[str, Any]:
    """`state` as plain JSON-ready data: `ver`, `led`, `mode`, `buttons`, `presses`."""
    return {"ver": state.ver, "led": state.led, "mode": state.mode,
            "buttons": dict(state.buttons), "presses": dict(state.presses)}


def _is_int(value: object, minimum: int = 0) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _per_button(value: object, name: str, check: Any, what: str) -> tuple[tuple[str, Any], ...]:
    if not isinstance(value, Mapping) or sorted(value) != sorted(BUTTONS):
        raise ValueError(f'"{name}" must be an object with keys {", ".join(BUTTONS)}')
    for button in BUTTONS:
        if not check(value[button]):
            raise ValueError(f'"{name}.{button}" must be {what}')
    return tuple((button, value[button]) for button in BUTTONS)


def from_snapshot(body: Any) -> State:
    """The state a `state` payload shows; `ValueError` with a reason when it is not a valid snapshot."""
    if not isinstance(body, Mapping):
        raise ValueError("a snapshot must be a JSON object")
    if not _is_int(body.get("ver")):
        raise ValueError('"ver" must be an integer >= 0')
    if body.get("led") not in LEDS:
        raise ValueError(f'"led" must be one of: {", ".join(LEDS)}')
    if body.get("mode") not in MODES:
        raise ValueError(f'"mode" must be one of: {", ".join(MODES)}')
    buttons = _per_button(body.get("buttons"), "buttons", lambda v: isinstance(v, bool), "true or false")
    presses = _per_button(body.get("presses"), "presses", _is_int, "an integer >= 0")
    if body.get("lit") not in (0, 1) or isinstance(body.get("lit"), bool):
        raise ValueError('"lit" must be 0 or 1')
    temp = body.get("temp_c", "missing")
    if temp is not None and (isinstance(temp, bool) or not isinstance(temp, (int, float))):
        raise ValueError('"temp_c" must be a number or null')
    for counter in ("dropped", "cmd_dropped"):
        if not _is_int(body.get(counter)):
            raise ValueError(f'"{counter}" must be an integer >= 0')
    return State(known=True, ver=body["ver"], led=body["led"], mode=body["mode"],
                 buttons=buttons, presses=presses)


def _check_status(body: Mapping[str, Any]) -> None:
    if not isinstance(body.get("online"), bool):
        raise ValueError('"online" must be true or false')


def _check_event(body: Mapping[str, Any]) -> None:
    if not _is_int(body.get("ver"), 1):
        raise ValueError('"ver" must be an integer >= 1')
    kind = body.get("kind")
    if kind not in EVENT_KINDS:
        raise ValueError(f'"kind" must be one of: {", ".join(EVENT_KINDS)}')
    if kind == "button":
        if body.get("button") not in BUTTONS:
            raise ValueError(f'"button" must be one of: {", ".join(BUTTONS)}')
        if not isinstance(body.get("pressed"), bool):
            raise ValueError('"pressed" must be true or false')
        if not _is_int(body.get("presses")):
            raise ValueError('"presses" must be an integer >= 0')
        return
    allowed = MODES if kind == "mode" else LEDS
    if body.get(kind) not in allowed:
        raise ValueError(f'"{kind}" must be one of: {", ".join(allowed)}')
    if body.get("by") not in CAUSES:
        raise ValueError(f'"by" must be one of: {", ".join(CAUSES)}')
    if body["by"] == "cmd" and not isinstance(body.get("cmd"), str):
        raise ValueError('"cmd" (the command id) must be a string when "by" is "cmd"')


def _check_ack(body: Mapping[str, Any]) -> None:
    if body.get("id", "missing") is not None and not isinstance(body.get("id"), str):
        raise ValueError('"id" must be a string or null')
    if not isinstance(body.get("ok"), bool):
        raise ValueError('"ok" must be true or false')
    if body["ok"] and not _is_int(body.get("ver")):
        raise ValueError('"ver" must be an integer >= 0 in an ok ack')
    if not body["ok"] and not isinstance(body.get("error"), str):
        raise ValueError('"error" must be a string in a rejected ack')


def _on_snapshot(state: State, snap: State, retained: bool) -> tuple[State, tuple[Problem, ...]]:
    if not state.known:
        return snap, ()
    if retained:
        return state, ()
    if snap.ver == state.ver:
        if view(snap) == view(state):
            return state, ()
        return snap, (Problem(INCONSISTENT, f"snapshot ver {snap.ver} disagrees with the events before it",
                              expected=view(state), seen=view(snap)),)
    if snap.ver > state.ver:
        return snap, (Problem(UNKNOWN, f"snapshot ver {snap.ver} is ahead of the model (ver {state.ver}): "
                                       f"{snap.ver - state.ver} change(s) not seen; model reset to it"),)
    return state, (Problem(INCONSISTENT, f"snapshot ver {snap.ver} is older than the events already seen "
                                         f"(model at ver {state.ver})", expected=view(state), seen=view(snap)),)


def _on_event(state: State, body: Mapping[str, Any]) -> tuple[State, tuple[Problem, ...]]:
    ver = body["ver"]
    if ver > state.ver + 1:
        return init(), (Problem(UNKNOWN, f"event ver {ver} but the model is at ver {state.ver}: "
                                         f"{ver - state.ver - 1} change(s) not seen; unknown until the next snapshot"),)
    if ver <= state.ver:
        return state, (Problem(INCONSISTENT, f"event ver {ver} but the model is already at ver {state.ver}: "
                                             "versions must rise by one per event",
                               expected={"ver": state.ver + 1}, seen={"ver": ver}),)
    problems: list[Problem] = []
    kind = body["kind"]
    if kind == "button":
        button, pressed, presses = body["button"], body["pressed"], body["presses"]
        held, count = dict(state.buttons), dict(state.presses)
        if held[button] == pressed:
            problems.append(Problem(INCONSISTENT, f"button {button} edge to {'pressed' if pressed else 'released'} "
                                                  "but the model already has it so",
                                    expected={"buttons": {button: not pressed}}, seen={"buttons": {button: pressed}}))
        want = count[button] + 1 if pressed else count[button]
        if presses != want:
            problems.append(Problem(INCONSISTENT, f"button {button} {'press' if pressed else 'release'} "
                                                  f"must make presses {want}, not {presses}",
                                    expected={"presses": {button: want}}, seen={"presses": {button: presses}}))
        held[button], count[button] = pressed, presses
        new = replace(state, ver=ver, buttons=tuple((b, held[b]) for b in BUTTONS),
                      presses=tuple((b, count[b]) for b in BUTTONS))
    else:
        value = body[kind]
        if getattr(state, kind) == value:
            problems.append(Problem(INCONSISTENT, f"{kind} event to {value!r} but the model already has {kind} "
                                                  f"{value!r}: an event is a change", seen={kind: value}))
        new = replace(state, ver=ver, **{kind: value})
    return new, tuple(problems)


def _on_ack(state: State, body: Mapping[str, Any]) -> tuple[State, tuple[Problem, ...]]:
    if not body["ok"]:
        return state, ()
    ver = body["ver"]
    if ver == state.ver:
        return state, ()
    if ver > state.ver:
        return init(), (Problem(UNKNOWN, f"ack ver {ver} but the model is at ver {state.ver}: "
                                         f"{ver - state.ver} change(s) not seen; unknown until the next snapshot"),)
    return state, (Problem(INCONSISTENT, f"ack of {body.get('id')!r} says ver {ver} but the events before it "
                                         f"reached ver {state.ver}", expected={"ver": state.ver}, seen={"ver": ver}),)


def step(state: State, message: ModelInput) -> tuple[State, tuple[Problem, ...]]:
    """The state after `message` and the problems it shows. `state` is not modified."""
    body = message.body
    try:
        if not isinstance(body, Mapping):
            raise ValueError("payload is not a JSON object")
        if message.kind == "state":
            snap = from_snapshot(body)
        elif message.kind == "event":
            _check_event(body)
        elif message.kind == "ack":
            _check_ack(body)
        elif message.kind == "status":
            _check_status(body)
    except ValueError as exc:
        return state, (Problem(MALFORMED, f"{message.kind}: {exc}"),)
    if message.kind == "state":
        return _on_snapshot(state, snap, message.retained)
    if not state.known or message.retained:
        return state, ()
    if message.kind == "event":
        return _on_event(state, body)
    if message.kind == "ack":
        return _on_ack(state, body)
    return state, ()
