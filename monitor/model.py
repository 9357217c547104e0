"""The device model: what a node's state must be, given what it published. Pure: no I/O, no clock,
nothing mutated in place.

`init()` is the model before anything is known; `step(state, message) -> (state, problems)` is one
input. The model knows the meaning of `led`, `mode`, `buttons`, `presses`, `ver`, the drop counters
and the command rules (docs/protocol.md, "State and versions" and "cmd"); it knows nothing of `seq`,
boots, sessions or time: the checker feeds it one boot's messages in `seq` order, plus two inputs of
its own making (`kind` `boot`: nothing precedes the next message, the node just started; `kind` `gap`:
messages are missing here, lost on the way or published before the recording started).

An `ack` input carries `command`: the command it answers (`parse_command()` of what was seen on the
`cmd` topic), or None when the monitor never saw it.

The rules, in brief (docs/monitor.md has them in full):
- versions: events carry `ver` = previous + 1; an ok ack carries the `ver` after its command; a
  snapshot with `ver` V comes after every event up to V. Versions skipped with no message missing
  must be explained by the node's `dropped` counter rising by the next snapshot, else `inconsistent`.
- content: an event changes what it says (a press adds one to `presses`); a snapshot at the model's
  `ver` shows the model's state; an ok ack's command took effect (its `led`/`mode` hold at the ack's
  `ver`, and in the next snapshot unless a later event changed them).
- commands: the node accepts exactly the commands `parse_command()` accepts, and rejects the others
  with the same `error` (the first problem in the protocol's table order).
- counters: `dropped` and `cmd_dropped` never fall within a boot; a rise is `dropped_on_device`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import orjson


LEDS = ("on", "off", "auto")
MODES = ("slow", "fast")
BUTTONS = ("a", "b")
EVENT_KINDS = ("button", "mode", "led")
CAUSES = ("button", "cmd")
COMMAND_KEYS = ("id", "led", "mode", "get")
_COMMAND_KEYS = frozenset(COMMAND_KEYS)
MAX_COMMAND_BYTES = 256
MAX_ID_CHARS = 64

INCONSISTENT = "inconsistent"
MALFORMED = "malformed"
DROPPED_ON_DEVICE = "dropped_on_device"

BOOT = "boot"
GAP = "gap"


class Command(NamedTuple):
    """A command as the node must read it: `id` (None when unreadable), `fields` when valid, else `error`."""

    id: str | None
    fields: Mapping[str, Any] | None
    error: str | None


class Pending(NamedTuple):
    """An ok command's effect the next snapshot must show (recorded while the state is unknown)."""

    command: str
    field: str
    value: str
    ver: int


class State(NamedTuple):
    """What the model knows of the node.

    `ver` is the last version accounted for (None: not yet known). `known` says whether `led`, `mode`,
    `buttons`, `presses` are known at `ver`. `gap` is true when messages went missing since (events
    may be among them). `owed` counts versions skipped with nothing missing: only a rise of `dropped`
    can explain them. `dropped`/`cmd_dropped` are the node's counters (None: not yet known).
    """

    ver: int | None = None
    known: bool = False
    led: str | None = None
    mode: str | None = None
    buttons: tuple[bool, bool] = (False, False)
    presses: tuple[int, int] = (0, 0)
    gap: bool = False
    owed: int = 0
    owed_from: int = 0
    dropped: int | None = None
    cmd_dropped: int | None = None
    pending: tuple[Pending, ...] = ()


class Problem(NamedTuple):
    """What one input shows to be wrong; `expected`/`seen` are the witness, `info` extra facts."""

    kind: str
    detail: str
    expected: Mapping[str, Any] | None = None
    seen: Mapping[str, Any] | None = None
    info: Mapping[str, Any] | None = None


NONE: tuple[Problem, ...] = ()

_new_state = tuple.__new__
"""Builds a `State` from all its fields at once, in order (see `_on_event`)."""
_SHOWN = slice(2, 6)
"""`led`, `mode`, `buttons`, `presses` of a `State` (what a snapshot shows; sliced, to compare them at once)."""


def init() -> State:
    """The model before anything is known."""
    return State()


def view(state: State) -> dict[str, Any]:
    """The state as plain JSON-ready data (`ver`, `led`, `mode`, `buttons`, `presses`)."""
    return {"ver": state.ver, "led": state.led, "mode": state.mode,
            "buttons": dict(zip(BUTTONS, state.buttons, strict=True)),
            "presses": dict(zip(BUTTONS, state.presses, strict=True))}


# --- commands ------------------------------------------------------------------------------------

def parse_command(raw: bytes) -> Command:
    """The node's reading of a command payload (protocol.md, the `cmd` table, checked in its order)."""
    if len(raw) > MAX_COMMAND_BYTES:
        return Command(None, None, f"too large: {len(raw)} bytes (at most {MAX_COMMAND_BYTES})")
    try:
        # Strict JSON, as the node holds commands to (node/lib/strictjson.py): orjson alone, no fallback
        # to `json`, which takes NaN and unpaired surrogates. Not UTF-8 is not JSON either.
        doc = orjson.loads(raw)
    except ValueError:
        return Command(None, None, "not JSON")
    if not isinstance(doc, dict):
        return Command(None, None, "not a JSON object")
    cid = doc.get("id")
    if not isinstance(cid, str) or not 1 <= len(cid) <= MAX_ID_CHARS:
        return Command(None, None, f"id must be a string of 1 to {MAX_ID_CHARS} characters")
    if not doc.keys() <= _COMMAND_KEYS:  # (a set comparison first: sorting costs, on every command)
        unknown = sorted(k for k in doc if k not in COMMAND_KEYS)
        return Command(cid, None, f"unknown key: {unknown[0]}")
    fields: dict[str, Any] = {}
    for key, allowed in (("led", LEDS), ("mode", MODES)):
        if key in doc:
            if not isinstance(doc[key], str) or doc[key] not in allowed:
                return Command(cid, None, f"{key} must be one of: {', '.join(allowed)}")
            fields[key] = doc[key]
    if "get" in doc:
        if doc["get"] is not True:
            return Command(cid, None, "get must be true")
        fields["get"] = True
    if not fields:
        return Command(cid, None, "nothing to do: give led, mode or get")
    return Command(cid, fields, None)


# --- validating bodies ---------------------------------------------------------------------------

def _is_mapping(value: object) -> bool:
    return type(value) is dict or isinstance(value, Mapping)  # JSON objects are dicts: skip the ABC check


def _pair(value: object, name: str) -> tuple[Any, Any]:
    """`(value["a"], value["b"])` of an object with exactly the keys a and b."""
    if type(value) is not dict and not _is_mapping(value) \
            or len(value) != 2 or "a" not in value or "b" not in value:  # type: ignore[arg-type]
        raise ValueError(f'"{name}" must be an object with keys a, b')
    return value["a"], value["b"]  # type: ignore[index]


def _is_bool(value: object) -> bool:
    return value is True or value is False


def snapshot_state(body: Mapping[str, Any]) -> State:
    """The state a `state` payload shows; `ValueError` with a reason when it is not a valid snapshot."""
    get = body.get  # (each check written out, with no helper to call: every snapshot runs them)
    ver = get("ver")
    if type(ver) is not int or ver < 0:
        raise ValueError('"ver" must be an integer >= 0')
    led, mode = get("led"), get("mode")
    if led not in LEDS:
        raise ValueError(f'"led" must be one of: {", ".join(LEDS)}')
    if mode not in MODES:
        raise ValueError(f'"mode" must be one of: {", ".join(MODES)}')
    a, b = buttons = _pair(get("buttons"), "buttons")
    if a is not True and a is not False:
        raise ValueError('"buttons.a" must be true or false')
    if b is not True and b is not False:
        raise ValueError('"buttons.b" must be true or false')
    a, b = presses = _pair(get("presses"), "presses")
    if type(a) is not int or a < 0:
        raise ValueError('"presses.a" must be an integer >= 0')
    if type(b) is not int or b < 0:
        raise ValueError('"presses.b" must be an integer >= 0')
    lit = get("lit")
    if type(lit) is not int or lit not in (0, 1):
        raise ValueError('"lit" must be 0 or 1')
    temp = get("temp_c", "missing")
    if temp is not None and type(temp) not in (int, float):
        raise ValueError('"temp_c" must be a number or null')
    dropped, cmd_dropped = get("dropped"), get("cmd_dropped")
    if type(dropped) is not int or dropped < 0:
        raise ValueError('"dropped" must be an integer >= 0')
    if type(cmd_dropped) is not int or cmd_dropped < 0:
        raise ValueError('"cmd_dropped" must be an integer >= 0')
    return _new_state(State, (ver, True, led, mode, buttons, presses, False, 0, 0, dropped, cmd_dropped,
                              ()))  # State(ver=ver, known=True, led=..., ..., cmd_dropped=cmd_dropped), built directly


def _change(body: Mapping[str, Any], kind: Any) -> str:
    """The new value of `led` or `mode` an event of that `kind` carries; `ValueError` with a reason when it is
    not a valid event."""
    if kind not in EVENT_KINDS:
        raise ValueError(f'"kind" must be one of: {", ".join(EVENT_KINDS)}')
    allowed = MODES if kind == "mode" else LEDS
    value = body.get(kind)
    if value not in allowed:
        raise ValueError(f'"{kind}" must be one of: {", ".join(allowed)}')
    by = body.get("by")
    if by not in CAUSES:
        raise ValueError(f'"by" must be one of: {", ".join(CAUSES)}')
    if by == "cmd" and not isinstance(body.get("cmd"), str):
        raise ValueError('"cmd" (the command id) must be a string when "by" is "cmd"')
    return value  # type: ignore[no-any-return]


def _check_ack(body: Mapping[str, Any]) -> None:
    cid = body.get("id", 0)
    if cid is not None and not isinstance(cid, str):
        raise ValueError('"id" must be a string or null')
    ok = body.get("ok")
    if ok is not True and ok is not False:
        raise ValueError('"ok" must be true or false')
    if ok:
        ver = body.get("ver")
        if type(ver) is not int or ver < 0:
            raise ValueError('"ver" must be an integer >= 0 in an ok ack')
    elif not isinstance(body.get("error"), str):
        raise ValueError('"error" must be a string in a rejected ack')


def _check_status(body: Mapping[str, Any]) -> None:
    if not _is_bool(body.get("online")):
        raise ValueError('"online" must be true or false')


# --- versions ------------------------------------------------------------------------------------

def _skip(state: State, ver: int, missing: int) -> State:
    """The state after versions `state.ver + 1 ...` (`missing` of them) were not seen, now at `ver`."""
    if state.gap:  # explained by the messages that went missing
        return state._replace(ver=ver, known=False, gap=False, pending=())
    owed_from = state.owed_from if state.owed else state.ver + 1
    return state._replace(ver=ver, known=False, owed=state.owed + missing, owed_from=owed_from, pending=())


def _backwards(state: State, ver: int, what: str, want: int) -> tuple[State, tuple[Problem, ...]]:
    return state, (Problem(INCONSISTENT, f"{what} ver {ver} but the model is already at ver {state.ver}: "
                                         "versions only rise, by one per change",
                           expected={"ver": want}, seen={"ver": ver}),)


def _counters(state: State, snap: State) -> list[Problem]:
    problems: list[Problem] = []
    if state.dropped == snap.dropped and state.cmd_dropped == snap.cmd_dropped:
        return problems  # the common case
    for name, what in (("dropped", "messages dropped from the node's outbox (full)"),
                       ("cmd_dropped", "commands dropped by the node (command queue full)")):
        before, now = getattr(state, name), getattr(snap, name)
        if before is None:
            continue
        if now > before:
            problems.append(Problem(DROPPED_ON_DEVICE, f"{now - before} {what}",
                                    expected={name: before}, seen={name: now},
                                    info={"counter": name, "count": now - before}))
        elif now < before:
            problems.append(Problem(INCONSISTENT, f'"{name}" fell from {before} to {now} within one boot',
                                    expected={name: before}, seen={name: now}))
    return problems


def _on_snapshot(state: State, message: Any) -> tuple[State, tuple[Problem, ...]]:
    try:
        snap = snapshot_state(message.body)
    except ValueError as exc:
        return state, (Problem(MALFORMED, f"state: {exc}"),)
    at = state.ver
    if message.retained:
        if at is not None or state.dropped is not None:
            return state, NONE  # history: the model has moved past it (or the boot start is known)
        return snap, NONE  # a baseline from before the recording started
    ver = snap.ver
    if at is not None and ver < at:
        return state, (Problem(INCONSISTENT, f"snapshot ver {ver} is older than the changes already seen "
                                             f"(model at ver {at})", expected=view(state), seen=view(snap)),)
    problems = _counters(state, snap)
    if at is not None:
        skipped = ver - at
        owed = state.owed + (skipped if skipped > 0 and not state.gap else 0)
        if owed and not (state.dropped is None or snap.dropped > state.dropped):  # not explained by drops
            first = state.owed_from if state.owed else at + 1
            problems.append(Problem(INCONSISTENT, f"{owed} change(s) from ver {first} on were never published, "
                                                  "yet nothing was lost on the way and the node counts no drops",
                                    expected={"dropped": f"> {state.dropped}"}, seen={"dropped": snap.dropped},
                                    info={"versions_missing": owed}))
        if skipped == 0 and state.known:
            if snap[_SHOWN] != state[_SHOWN]:
                # Which side is wrong is unknowable here: the model waits for the next snapshot rather than
                # flag every later message (one lie, one finding).
                return snap._replace(known=False), (*problems, Problem(
                    INCONSISTENT, f"snapshot ver {ver} disagrees with the changes before it",
                    expected=view(state), seen=view(snap)))
        elif skipped == 0:
            for p in state.pending:
                shown = getattr(snap, p.field)
                if shown != p.value:
                    problems.append(Problem(
                        INCONSISTENT, f"command {p.command!r} was acked ok at ver {p.ver} with {p.field}={p.value}, "
                                      f"but the next snapshot (ver {ver}) shows {p.field}={shown}",
                        expected={p.field: p.value}, seen={p.field: shown}, info={"command": p.command}))
    return snap, tuple(problems)


def _button_problems(state: State, body: Mapping[str, Any], want: int) -> tuple[Problem, ...]:
    """What is wrong with a button edge (`want`: the presses it must make)."""
    i = 0 if body["button"] == "a" else 1
    pressed, presses = body["pressed"], body["presses"]
    problems = []
    if state.buttons[i] == pressed:
        problems.append(Problem(INCONSISTENT, f"button {body['button']} edge to "
                                              f"{'pressed' if pressed else 'released'} but the model already has it so",
                                expected={"buttons": {body["button"]: not pressed}},
                                seen={"buttons": {body["button"]: pressed}}))
    if presses != want:
        problems.append(Problem(INCONSISTENT, f"button {body['button']} {'press' if pressed else 'release'} "
                                              f"must make presses {want}, not {presses}",
                                expected={"presses": {body["button"]: want}},
                                seen={"presses": {body["button"]: presses}}))
    return tuple(problems)


def _without(pending: tuple[Pending, ...], field: str) -> tuple[Pending, ...]:
    """`pending` less the effects on `field` (an event changed it since)."""
    return tuple(p for p in pending if p.field != field)


def _on_event(state: State, body: Mapping[str, Any]) -> tuple[State, tuple[Problem, ...]]:
    """The state after the event `body` and the problems it shows; `ValueError` with a reason when `body` is
    not a valid event (checked first, each field read once: this runs for every event)."""
    try:  # (subscripts cost less than `get()`; when a field is missing, the checks below say which)
        ver, kind = body["ver"], body["kind"]
    except KeyError:
        ver, kind = body.get("ver"), body.get("kind")
    if type(ver) is not int or ver < 1:
        raise ValueError('"ver" must be an integer >= 1')
    if kind == "button":
        try:
            button, pressed, count = body["button"], body["pressed"], body["presses"]
        except KeyError:
            button, pressed, count = body.get("button"), body.get("pressed"), body.get("presses")
        if button not in BUTTONS:
            raise ValueError(f'"button" must be one of: {", ".join(BUTTONS)}')
        if pressed is not True and pressed is not False:
            raise ValueError('"pressed" must be true or false')
        if type(count) is not int or count < 0:
            raise ValueError('"presses" must be an integer >= 0')
    else:
        value = _change(body, kind)
    # `state` unpacked once, and the new state built directly (the fields in `State`'s order) rather than
    # with `_replace`: attribute reads and `_replace` cost several times as much.
    at, known, led, mode, buttons, presses, _, owed, owed_from, dropped, cmd_dropped, pending = state
    if at is None:
        return state._replace(ver=ver), NONE
    if ver <= at:
        return _backwards(state, ver, "event", at + 1)
    if ver > at + 1:
        return _skip(state, ver, ver - at - 1), NONE
    if not known:
        return state._replace(ver=ver, gap=False, pending=_without(pending, kind)), NONE
    problems = NONE
    if kind == "button":
        i = 0 if button == "a" else 1
        want = presses[i] + 1 if pressed else presses[i]
        if buttons[i] == pressed or count != want:
            problems = _button_problems(state, body, want)
        if i == 0:
            buttons, presses = (pressed, buttons[1]), (count, presses[1])
        else:
            buttons, presses = (buttons[0], pressed), (presses[0], count)
    else:
        if (led if kind == "led" else mode) == value:
            problems = (Problem(INCONSISTENT, f"{kind} event to {value!r} but the model already has {kind} "
                                              f"{value!r}: an event is a change", expected={kind: f"not {value}"},
                                seen={kind: value}),)
        if kind == "led":
            led = value
        else:
            mode = value
    return _new_state(State, (ver, known, led, mode, buttons, presses, False, owed, owed_from, dropped, cmd_dropped,
                              pending)), problems


def _on_ack(state: State, body: Mapping[str, Any], command: Command | None) -> tuple[State, tuple[Problem, ...]]:
    ok = body["ok"]
    cid = body.get("id")
    problems: list[Problem] = []
    if command is not None:
        if ok and command.fields is None:
            problems.append(Problem(INCONSISTENT, f"the node accepted command {cid!r}, which the protocol rejects",
                                    expected={"ok": False, "error": command.error}, seen={"ok": True},
                                    info={"command": cid}))
        elif not ok and command.fields is not None:
            problems.append(Problem(INCONSISTENT, f"the node rejected the valid command {cid!r}",
                                    expected={"ok": True}, seen={"ok": False, "error": body["error"]},
                                    info={"command": cid}))
        elif not ok and body["error"] != command.error:
            problems.append(Problem(INCONSISTENT, f"the node rejected command {cid!r} for the wrong reason",
                                    expected={"error": command.error}, seen={"error": body["error"]},
                                    info={"command": cid}))
    if not ok:
        return state, tuple(problems)
    ver = body["ver"]
    fields = command.fields if command is not None and command.fields is not None else {}
    wanted = [(k, fields[k]) for k in ("led", "mode") if k in fields]
    if state.ver is not None and ver == state.ver:
        if state.known:
            for field, value in wanted:
                if getattr(state, field) != value:
                    problems.append(Problem(
                        INCONSISTENT, f"command {cid!r} asked {field}={value} and was acked ok at ver {ver}, "
                                      f"but the changes up to ver {ver} leave {field}={getattr(state, field)}",
                        expected={field: value}, seen={field: getattr(state, field)}, info={"command": cid}))
            return state, tuple(problems)
        pending = state.pending + tuple(Pending(str(cid), f, v, ver) for f, v in wanted)
        return state._replace(pending=pending), tuple(problems)
    if state.ver is None:
        new = state._replace(ver=ver)
    elif ver < state.ver:
        new, more = _backwards(state, ver, "ok ack", state.ver)
        return new, tuple(problems) + more
    else:
        new = _skip(state, ver, ver - state.ver)
    return new._replace(pending=new.pending + tuple(Pending(str(cid), f, v, ver) for f, v in wanted)), tuple(problems)


def step(state: State, message: Any) -> tuple[State, tuple[Problem, ...]]:
    """The state after `message` and the problems it shows. Nothing is modified."""
    kind = message.kind
    body = message.body
    if kind == "event" and type(body) is dict and not message.retained:  # the common case, in short
        try:
            return _on_event(state, body)
        except ValueError as exc:
            return state, (Problem(MALFORMED, f"{kind}: {exc}"),)
    if kind == GAP:
        return state._replace(gap=True), NONE
    if kind == BOOT:
        return State(ver=0, dropped=0, cmd_dropped=0), NONE
    if type(body) is not dict and not _is_mapping(body):
        return state, (Problem(MALFORMED, f"{kind}: payload is not a JSON object"),)
    if kind == "state":
        return _on_snapshot(state, message)
    after = state, NONE
    try:
        if kind == "event":
            after = _on_event(state, body)  # (which checks the body)
        elif kind == "ack":
            _check_ack(body)
        elif kind == "status":
            _check_status(body)
    except ValueError as exc:
        return state, (Problem(MALFORMED, f"{kind}: {exc}"),)
    if message.retained:
        return state, NONE  # history: checked, and that is all
    if kind == "ack":
        return _on_ack(state, body, message.command)
    return after
