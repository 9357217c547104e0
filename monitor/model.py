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

The rules, in brief (each has a name, in `RULES`; docs/monitor.md has them in full, with their findings, and
tests/vectors/broken/ a case that breaks each):
- versions: events carry `ver` = previous + 1; an ok ack carries the `ver` after its command; a
  snapshot with `ver` V comes after every event up to V. Versions skipped with no message missing
  must be explained by the node's `dropped` counter rising by the next snapshot, else `inconsistent`.
- boots: a boot starts from the initial state (`INITIAL`, node/lib/rules.py's `initial()`).
- content: an event changes what it says (a press adds one to `presses`, a release keeps them); a snapshot
  at the model's `ver` shows the model's state; an ok ack's command took effect (its `led`/`mode` hold at
  the ack's `ver`, and in the next snapshot unless a later event changed them).
- sequence: a press of B is followed at once by its mode toggle (by button, the other mode); only commands
  change `led`; a command changes `led` before `mode`, only the fields it names, nothing when rejected, and
  no other change comes between its changes and its ack.
- commands: the node accepts exactly the commands `parse_command()` accepts, and rejects the others
  with the same `error` (the first problem in the protocol's table order).
- counters: `dropped` and `cmd_dropped` never fall within a boot; a rise is `dropped_on_device`.
- readings: with `led` on (off), `lit` never leaves 1 (0) once a snapshot showed it, until `led` changes.
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

# Each rule of the contract the model checks, by name: every `Problem` names the one it found broken
# (docs/monitor.md lists them with their findings; tests/monitor/test_model_rules.py has a case for each).
VER_STEP = "ver-step"                  # versions rise by one per change, never go back
VER_PUBLISHED = "ver-published"        # a version skipped with nothing lost is a drop the node counted
SNAPSHOT_STATE = "snapshot-state"      # a snapshot with ver V shows exactly the changes up to V
BOOT_INITIAL = "boot-initial"          # a boot starts from rules.initial(): ver 0, led auto, mode slow, ...
EVENT_CHANGES = "event-changes"        # an event changes what it names (a button edge flips the button)
PRESS_COUNTS = "press-counts"          # a press adds one to presses; a release keeps them
B_TOGGLES_MODE = "b-toggles-mode"      # a press of B is followed, in the same step, by its mode toggle
LED_BY_CMD = "led-by-cmd"              # only a command changes the LED policy
CMD_LED_FIRST = "cmd-led-first"        # a command changes led before mode, each at most once
CMD_CHANGES_NAMED = "cmd-changes-named"  # a command changes only what it names; a get or a rejected one nothing
CMD_ONE_STEP = "cmd-one-step"          # a command's changes and its ack are one step: no other change between
ACK_VER = "ack-ver"                    # an ok ack carries the version after its command
ACK_EFFECT = "ack-effect"              # an ok command's led/mode hold at its ack's version
CMD_ACCEPT = "cmd-accept"              # accepted and rejected exactly as the protocol's table says
COUNTERS = "counters"                  # dropped/cmd_dropped never fall; a rise is dropped_on_device
LIT_FOLLOWS_LED = "lit-follows-led"    # with led on (off), lit never leaves 1 (0) once it got there
BODY_SHAPE = "body-shape"              # every field of a message as the protocol types it (malformed)
RULES = (VER_STEP, VER_PUBLISHED, SNAPSHOT_STATE, BOOT_INITIAL, EVENT_CHANGES, PRESS_COUNTS, B_TOGGLES_MODE,
         LED_BY_CMD, CMD_LED_FIRST, CMD_CHANGES_NAMED, CMD_ONE_STEP, ACK_VER, ACK_EFFECT, CMD_ACCEPT, COUNTERS,
         LIT_FOLLOWS_LED, BODY_SHAPE)

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
    toggle: bool | None = None
    """The change at `ver` was a press of button B, so the next version must be its mode toggle (None: not
    known what the change at `ver` was)."""
    run: tuple[str, tuple[str, ...], int | None] | None = None
    """`(command id, kinds, cut)`: the newest command whose changes no ack closed yet (None: none), the kinds of
    change it made, and `cut`, the version of another change made since (None: none; the command's changes are
    then the last ones)."""
    lit_ok: bool = False
    """`led` is `on` or `off`, a snapshot showed `lit` at its level, and `led` is known not to have changed
    since: every snapshot must show that level until it does."""


class Problem(NamedTuple):
    """What one input shows to be wrong; `expected`/`seen` are the witness, `info` extra facts."""

    kind: str
    detail: str
    expected: Mapping[str, Any] | None = None
    seen: Mapping[str, Any] | None = None
    info: Mapping[str, Any] | None = None
    rule: str | None = None
    """The rule broken (one of `RULES`)."""


NONE: tuple[Problem, ...] = ()

_new_state = tuple.__new__
"""Builds a `State` from all its fields at once, in order (see `_on_event`)."""
_SHOWN = slice(2, 6)
"""`led`, `mode`, `buttons`, `presses` of a `State` (what a snapshot shows; sliced, to compare them at once)."""


def init() -> State:
    """The model before anything is known."""
    return State()


INITIAL = State(ver=0, known=True, led="auto", mode="slow", buttons=(False, False), presses=(0, 0), dropped=0,
                cmd_dropped=0, toggle=False)
"""A boot's first state (node/lib/rules.py, `initial()`; the counters start at 0 too)."""


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
    # `lit_ok`: this snapshot shows `lit` at the level of an `on` or `off` policy (`_on_snapshot` decides the rest)
    return _new_state(State, (ver, True, led, mode, buttons, presses, False, 0, 0, dropped, cmd_dropped,
                              (), False, None, lit == (led == "on") and led != "auto"))  # built directly


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


def _other_mode(mode: str) -> str:
    return "fast" if mode == "slow" else "slow"


def _what(kind: str, by: Any, cid: Any, value: Any) -> str:
    """An event in words, for a witness."""
    if kind == "button":
        return "a button edge"
    return f"{kind} {value} by {by}" + (f" (command {cid!r})" if by == "cmd" else "")


def _sequence(state: State, ver: int, kind: str, by: Any, cid: Any, value: Any) -> tuple[Problem, ...]:
    """What the event at `ver` (the next version) breaks of the rules about which change follows which:
    B's toggle, who may change the LED, and a command's order."""
    problems = []
    at, toggle, run = state.ver, state.toggle, state.run
    if kind == "led" and by != "cmd":
        problems.append(Problem(INCONSISTENT, f"led event at ver {ver} by {by}: only a command changes the LED policy",
                                expected={"by": "cmd"}, seen={"by": by}, rule=LED_BY_CMD))
    if toggle:
        if kind != "mode" or by != "button":
            want = {"kind": "mode", "by": "button"}
            if state.known:
                want["mode"] = _other_mode(state.mode)  # type: ignore[arg-type]
            problems.append(Problem(INCONSISTENT, f"button b was pressed at ver {at}, so ver {ver} must be its mode "
                                                  f"toggle (by button), not {_what(kind, by, cid, value)}",
                                    expected=want, seen={"kind": kind, "by": by}, rule=B_TOGGLES_MODE))
        elif state.known and value == state.mode:
            problems.append(Problem(INCONSISTENT, f"button b's press at ver {at} must toggle the mode from "
                                                  f"{state.mode} to {_other_mode(value)}, but ver {ver} sets {value}",
                                    expected={"mode": _other_mode(value)}, seen={"mode": value}, rule=B_TOGGLES_MODE))
    elif toggle is False and kind == "mode" and by == "button":
        problems.append(Problem(INCONSISTENT, f"mode changed by button at ver {ver}, but the change at ver {at} "
                                              "was not a press of button b",
                                expected={"ver": at, "kind": "button", "button": "b", "pressed": True},
                                seen={"ver": ver, "kind": "mode", "by": "button"}, rule=B_TOGGLES_MODE))
    if run is not None and by == "cmd" and run[0] == cid and run[2] is not None:
        problems.append(Problem(INCONSISTENT, f"command {cid!r} made a change at ver {ver}, but ver {run[2]} "
                                              "already came between it and the command's earlier change: a "
                                              "command's changes and its ack are one step, nothing between",
                                expected={"between": []}, seen={"between": [run[2]]},
                                info={"command": cid}, rule=CMD_ONE_STEP))
    elif run is not None and by == "cmd" and run[0] == cid:
        if kind in run[1]:
            problems.append(Problem(INCONSISTENT, f"command {cid!r} changed {kind} twice (ver {at} and {ver}): "
                                                  "each field of a command is one change at most",
                                    expected={"kind": "led" if kind == "mode" else "mode"}, seen={"kind": kind},
                                    info={"command": cid}, rule=CMD_LED_FIRST))
        elif kind == "led":
            problems.append(Problem(INCONSISTENT, f"command {cid!r} changed mode (ver {at}) before led (ver {ver}): "
                                                  "a command's led change comes first",
                                    expected={"ver": at, "kind": "led"}, seen={"ver": at, "kind": "mode"},
                                    info={"command": cid}, rule=CMD_LED_FIRST))
    return tuple(problems)


def _between(state: State, what: str) -> tuple[Problem, ...]:
    """A snapshot or an ack at the version of a press of B: between the press and its toggle, made in one step."""
    at: int = state.ver  # type: ignore[assignment]
    return (Problem(INCONSISTENT, f"{what} at ver {at}, the press of button b: the press and its mode toggle "
                                  f"(ver {at + 1}) are one step, nothing comes between",
                    expected={"ver": f">= {at + 1}"}, seen={"ver": at}, rule=B_TOGGLES_MODE),)


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
        return state._replace(ver=ver, known=False, gap=False, pending=(), toggle=None, run=None, lit_ok=False)
    owed_from = state.owed_from if state.owed else state.ver + 1
    return state._replace(ver=ver, known=False, owed=state.owed + missing, owed_from=owed_from, pending=(),
                          toggle=None, run=None, lit_ok=False)


def _backwards(state: State, ver: int, what: str, want: int) -> tuple[State, tuple[Problem, ...]]:
    return state, (Problem(INCONSISTENT, f"{what} ver {ver} but the model is already at ver {state.ver}: "
                                         "versions only rise, by one per change",
                           expected={"ver": want}, seen={"ver": ver}, rule=VER_STEP),)


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
                                    info={"counter": name, "count": now - before}, rule=COUNTERS))
        elif now < before:
            problems.append(Problem(INCONSISTENT, f'"{name}" fell from {before} to {now} within one boot',
                                    expected={name: before}, seen={name: now}, rule=COUNTERS))
    return problems


def _initial_problem(snap: State) -> Problem | None:
    """A snapshot with ver 0 shows no change since its boot: the initial state."""
    if snap[_SHOWN] == INITIAL[_SHOWN]:
        return None
    return Problem(INCONSISTENT, "snapshot ver 0 is not the initial state every boot starts from",
                   expected=view(INITIAL), seen=view(snap), rule=BOOT_INITIAL)


def _lit_left(snap: State) -> Problem:
    """A snapshot whose `lit` left the level of its `on` or `off` policy, which an earlier one showed: only the
    LED task sets `lit`, and under `on` or `off` it sets only that level."""
    level = 1 if snap.led == "on" else 0
    return Problem(INCONSISTENT, f"lit went from {level} to {1 - level} while led stayed {snap.led}: with led "
                                 f"{snap.led} the LED shows {level} from when it took the policy on",
                   expected={"lit": level}, seen={"lit": 1 - level}, rule=LIT_FOLLOWS_LED)


def _on_snapshot(state: State, message: Any) -> tuple[State, tuple[Problem, ...]]:
    try:
        snap = snapshot_state(message.body)
    except ValueError as exc:
        return state, (Problem(MALFORMED, f"state: {exc}", rule=BODY_SHAPE),)
    # The common case in short: a live snapshot at the model's version, the state known and shown, the
    # counters where they were, nothing owed, no press of B waiting for its toggle, `lit` where it was.
    if state.known and state.ver == snap.ver and not message.retained and snap[_SHOWN] == state[_SHOWN] \
            and state[9:11] == snap[9:11] and not state.owed and not state.toggle \
            and (snap.lit_ok or not state.lit_ok):
        return snap, NONE
    at = state.ver
    ver = snap.ver
    if message.retained:
        if at is not None or state.dropped is not None:
            return state, NONE  # history: the model has moved past it (or the boot start is known)
        # a baseline from before the recording started
        if ver == 0 and (p := _initial_problem(snap)) is not None:
            return snap._replace(known=False), (p,)
        return snap, NONE
    if at is not None and ver < at:
        return state, (Problem(INCONSISTENT, f"snapshot ver {ver} is older than the changes already seen "
                                             f"(model at ver {at})", expected=view(state), seen=view(snap),
                               rule=VER_STEP),)
    problems = _counters(state, snap)
    same_run = False
    if at is not None:
        skipped = ver - at
        owed = state.owed + (skipped if skipped > 0 and not state.gap else 0)
        if owed and not (state.dropped is None or snap.dropped > state.dropped):  # not explained by drops
            first = state.owed_from if state.owed else at + 1
            problems.append(Problem(INCONSISTENT, f"{owed} change(s) from ver {first} on were never published, "
                                                  "yet nothing was lost on the way and the node counts no drops",
                                    expected={"dropped": f"> {state.dropped}"}, seen={"dropped": snap.dropped},
                                    info={"versions_missing": owed}, rule=VER_PUBLISHED))
        if skipped == 0 and state.toggle:
            problems += _between(state, "snapshot")
        if skipped == 0 and state.known:
            if snap[_SHOWN] != state[_SHOWN]:
                # Which side is wrong is unknowable here: the model waits for the next snapshot rather than
                # flag every later message (one lie, one finding).
                if ver == 0:
                    return snap._replace(known=False), (*problems, _initial_problem(snap))
                return snap._replace(known=False), (*problems, Problem(
                    INCONSISTENT, f"snapshot ver {ver} disagrees with the changes before it",
                    expected=view(state), seen=view(snap), rule=SNAPSHOT_STATE))
            same_run = True
        elif skipped == 0:
            for p in state.pending:
                shown = getattr(snap, p.field)
                if shown != p.value:
                    problems.append(Problem(
                        INCONSISTENT, f"command {p.command!r} was acked ok at ver {p.ver} with {p.field}={p.value}, "
                                      f"but the next snapshot (ver {ver}) shows {p.field}={shown}",
                        expected={p.field: p.value}, seen={p.field: shown}, info={"command": p.command},
                        rule=ACK_EFFECT))
    if ver == 0 and not same_run and (p := _initial_problem(snap)) is not None:
        return snap._replace(known=False), (*problems, p)
    if same_run and state.lit_ok and not snap.lit_ok:
        # (a lag is no fault: the LED task may not have shown a new policy yet, a `get` snapshot is taken at once)
        problems.append(_lit_left(snap))
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
                                seen={"buttons": {body["button"]: pressed}}, rule=EVENT_CHANGES))
    if presses != want:
        problems.append(Problem(INCONSISTENT, f"button {body['button']} {'press' if pressed else 'release'} "
                                              f"must make presses {want}, not {presses}",
                                expected={"presses": {body["button"]: want}},
                                seen={"presses": {body["button"]: presses}}, rule=PRESS_COUNTS))
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
        by = cid = value = None
    else:
        value = _change(body, kind)
        by = body["by"]
        cid = body.get("cmd") if by == "cmd" else None
    # The common case in short: the state known, the next version, after no command's change (one asks more of
    # the next change), and the change allowed where it is: B's toggle after a press of B, and otherwise a button
    # edge or a command's change of what does not hold. `state` unpacked
    # once, and the new state built directly (the fields in `State`'s order) rather than with `_replace`:
    # attribute reads and `_replace` cost several times as much.
    at, known, led, mode, buttons, presses, _, owed, owed_from, dropped, cmd_dropped, pending, toggle, run, lit_ok \
        = state
    if known and ver == at + 1 and run is None:
        if toggle:  # after a press of B: its toggle, in short, or the whole way below to say what is wrong
            if kind == "mode" and by == "button" and mode != value:
                return _new_state(State, (ver, True, led, value, buttons, presses, False, owed, owed_from, dropped,
                                          cmd_dropped, pending, False, None, lit_ok)), NONE
        elif kind == "button":
            i = 0 if button == "a" else 1
            want = presses[i] + 1 if pressed else presses[i]
            problems = _button_problems(state, body, want) if buttons[i] == pressed or count != want else NONE
            if i == 0:
                buttons, presses = (pressed, buttons[1]), (count, presses[1])
            else:
                buttons, presses = (buttons[0], pressed), (presses[0], count)
            return _new_state(State, (ver, True, led, mode, buttons, presses, False, owed, owed_from, dropped,
                                      cmd_dropped, pending, pressed and i == 1, None, lit_ok)), problems
        elif by == "cmd":  # (a change to what already holds is a fault: the whole way below says so)
            if kind == "led" and led != value:
                return _new_state(State, (ver, True, value, mode, buttons, presses, False, owed, owed_from, dropped,
                                          cmd_dropped, pending, False, (cid, ("led",), None), False)), NONE
            if kind == "mode" and mode != value:
                return _new_state(State, (ver, True, led, value, buttons, presses, False, owed, owed_from, dropped,
                                          cmd_dropped, pending, False, (cid, ("mode",), None), lit_ok)), NONE
    return _event_in_context(state, body, ver, kind, button if kind == "button" else None,
                             pressed if kind == "button" else None, count if kind == "button" else None, by, cid,
                             value)


def _event_in_context(state: State, body: Mapping[str, Any], ver: int, kind: str, button: Any, pressed: Any,
                      count: Any, by: Any, cid: Any, value: Any) -> tuple[State, tuple[Problem, ...]]:
    """`_on_event` whatever came before: a version skipped or gone back, the state unknown, the change before
    asking something of this one (B's toggle, a command's order)."""
    at, known, led, mode, buttons, presses, _, owed, owed_from, dropped, cmd_dropped, pending, toggle, run, lit_ok \
        = state
    toggle_next = kind == "button" and pressed and button == "b"
    if cid is None:  # another change than a command's: it cuts a command's run still open (its ack not seen)
        run_next = (run[0], run[1], ver) if run is not None and run[2] is None else run
    elif run is not None and run[0] == cid:
        run_next = (cid, (*run[1], kind), run[2])
    else:
        run_next = (cid, (kind,), None)
    if at is None:
        return state._replace(ver=ver, toggle=toggle_next, run=(cid, (kind,), None) if cid is not None else None), \
            _sequence(state, ver, kind, by, cid, value) if kind == "led" and by != "cmd" else NONE
    if ver <= at:
        return _backwards(state, ver, "event", at + 1)
    if ver > at + 1:
        # (versions missed: an ack may be among what is missing, so no earlier run goes on)
        return _skip(state, ver, ver - at - 1)._replace(toggle=toggle_next,
                                                        run=(cid, (kind,), None) if cid is not None else None), \
            _sequence(state, ver, kind, by, cid, value) if kind == "led" and by != "cmd" else NONE
    # The rules of which change may follow which (B's toggle, a command's order): checked only when one may
    # apply, which is seldom.
    problems = _sequence(state, ver, kind, by, cid, value) \
        if toggle or cid is not None and run is not None or kind != "button" and by == "button" else NONE
    if not known:
        return state._replace(ver=ver, gap=False, pending=_without(pending, kind), toggle=toggle_next,
                              run=run_next), problems
    if kind == "button":
        i = 0 if button == "a" else 1
        want = presses[i] + 1 if pressed else presses[i]
        if buttons[i] == pressed or count != want:
            problems += _button_problems(state, body, want)
        if i == 0:
            buttons, presses = (pressed, buttons[1]), (count, presses[1])
        else:
            buttons, presses = (buttons[0], pressed), (presses[0], count)
    else:
        if (led if kind == "led" else mode) == value and not (toggle and kind == "mode"):  # (B's toggle said so)
            problems += (Problem(INCONSISTENT, f"{kind} event to {value!r} but the model already has {kind} "
                                               f"{value!r}: an event is a change", expected={kind: f"not {value}"},
                                 seen={kind: value}, rule=EVENT_CHANGES),)
        if kind == "led":
            led = value
            lit_ok = False
        else:
            mode = value
    return _new_state(State, (ver, known, led, mode, buttons, presses, False, owed, owed_from, dropped, cmd_dropped,
                              pending, toggle_next, run_next, lit_ok)), problems


def _on_ack(state: State, body: Mapping[str, Any], command: Command | None) -> tuple[State, tuple[Problem, ...]]:
    ok = body["ok"]
    cid = body.get("id")
    problems: list[Problem] = []
    if command is not None:
        if ok and command.fields is None:
            problems.append(Problem(INCONSISTENT, f"the node accepted command {cid!r}, which the protocol rejects",
                                    expected={"ok": False, "error": command.error}, seen={"ok": True},
                                    info={"command": cid}, rule=CMD_ACCEPT))
        elif not ok and command.fields is not None:
            problems.append(Problem(INCONSISTENT, f"the node rejected the valid command {cid!r}",
                                    expected={"ok": True}, seen={"ok": False, "error": body["error"]},
                                    info={"command": cid}, rule=CMD_ACCEPT))
        elif not ok and body["error"] != command.error:
            problems.append(Problem(INCONSISTENT, f"the node rejected command {cid!r} for the wrong reason",
                                    expected={"error": command.error}, seen={"error": body["error"]},
                                    info={"command": cid}, rule=CMD_ACCEPT))
    run = state.run
    # The changes a command made come just before its ack (one step): those of the run at the model's version.
    made = run[1] if run is not None and run[0] == cid and run[2] is None \
        and (not ok or body["ver"] == state.ver) else ()
    if made:
        if not ok:
            problems.append(Problem(INCONSISTENT, f"command {cid!r} was rejected, yet changed {', '.join(made)}: a "
                                                  "rejected command changes nothing",
                                    expected={"changes": []}, seen={"changes": list(made)}, info={"command": cid},
                                    rule=CMD_CHANGES_NAMED))
        elif command is not None and command.fields is not None:
            named = command.fields
            for kind in made:  # (a loop, no list made: this runs for every ack of a change)
                if kind not in named:
                    extra = [k for k in made if k not in named]
                    problems.append(Problem(INCONSISTENT, f"command {cid!r} changed {', '.join(extra)}, which it "
                                                          "does not name: a command changes only its fields that "
                                                          "differ (a get changes nothing)",
                                            expected={"changes": [k for k in made if k in named]},
                                            seen={"changes": list(made)}, info={"command": cid},
                                            rule=CMD_CHANGES_NAMED))
                    break
    if state.toggle:
        if body["ver"] == state.ver if ok else not state.gap:  # (a rejection has no ver to tell)
            problems += _between(state, "ack")
        state = _new_state(State, (*state[:12], False, None, state.lit_ok))
    elif run is not None:  # the ack closes its command's changes (built directly: see `_on_event`)
        at, known, led, mode, buttons, presses, gap, owed, owed_from, dropped, cmd_dropped, pending, toggle, _, \
            lit_ok = state
        state = _new_state(State, (at, known, led, mode, buttons, presses, gap, owed, owed_from, dropped, cmd_dropped,
                                   pending, toggle, None, lit_ok))
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
                        expected={field: value}, seen={field: getattr(state, field)}, info={"command": cid},
                        rule=ACK_EFFECT))
            return state, tuple(problems)
        pending = state.pending + tuple(Pending(str(cid), f, v, ver) for f, v in wanted)
        return state._replace(pending=pending), tuple(problems)
    if state.ver is None:
        new = state._replace(ver=ver, toggle=False)
    elif ver < state.ver:
        new, more = _backwards(state, ver, "ok ack", state.ver)
        return new, tuple(problems) + tuple(p._replace(rule=ACK_VER) for p in more)
    else:
        new = _skip(state, ver, ver - state.ver)._replace(toggle=False)
    return new._replace(pending=new.pending + tuple(Pending(str(cid), f, v, ver) for f, v in wanted)), tuple(problems)


def _named(after: tuple[State, tuple[Problem, ...]]) -> tuple[State, tuple[Problem, ...]]:
    """`after` with each problem's rule in its `info` too, where a finding made of it shows it (`check --json`)."""
    state, problems = after
    return state, tuple(p._replace(info={**(p.info or {}), "rule": p.rule}) for p in problems)


def step(state: State, message: Any) -> tuple[State, tuple[Problem, ...]]:
    """The state after `message` and the problems it shows (each naming its rule, in `rule` and in `info`).
    Nothing is modified."""
    kind = message.kind
    body = message.body
    if kind == "event" and type(body) is dict and not message.retained:  # the common case, in short
        try:
            after = _on_event(state, body)
        except ValueError as exc:
            return state, (Problem(MALFORMED, f"{kind}: {exc}", info={"rule": BODY_SHAPE}, rule=BODY_SHAPE),)
        return _named(after) if after[1] else after
    if kind == "state" and type(body) is dict:
        after = _on_snapshot(state, message)
    else:
        after = _step(state, message, kind, body)
    return _named(after) if after[1] else after


def _step(state: State, message: Any, kind: str, body: Any) -> tuple[State, tuple[Problem, ...]]:
    if kind == GAP:
        return state._replace(gap=True, run=None), NONE  # (a lost ack may have closed the run)
    if kind == BOOT:
        return INITIAL, NONE
    if type(body) is not dict and not _is_mapping(body):
        return state, (Problem(MALFORMED, f"{kind}: payload is not a JSON object", rule=BODY_SHAPE),)
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
        return state, (Problem(MALFORMED, f"{kind}: {exc}", rule=BODY_SHAPE),)
    if message.retained:
        return state, NONE  # history: checked, and that is all
    if kind == "ack":
        return _on_ack(state, body, message.command)
    return after
