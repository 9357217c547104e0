# Pure-module cases: plain functions and asserts, run by pytest and by tests/node/mp_run.py under MicroPython.
from command import CommandError, parse


def _reject(raw):
    try:
        parse(raw)
    except CommandError as e:
        return e.reason, e.cmd_id
    raise AssertionError("accepted: %r" % (raw,))


def test_valid_commands():
    assert parse(b'{"id": "c1", "led": "on"}') == ("c1", {"led": "on"})
    assert parse(b'{"id": "c2", "mode": "fast", "led": "auto"}') == ("c2", {"mode": "fast", "led": "auto"})
    assert parse(b'{"id": "c3", "get": true}') == ("c3", {"get": True})


def test_too_large_comes_first():
    raw = b'{"id": "x", "led": "on", "pad": "' + b"z" * 300 + b'"}'
    assert _reject(raw) == ("too large: %d bytes (at most 256)" % len(raw), None)


def test_not_json():
    assert _reject(b"garbage") == ("not JSON", None)
    assert _reject(b"\xff\xfe{") == ("not JSON", None)
    assert _reject(b"") == ("not JSON", None)


def test_not_an_object():
    assert _reject(b"[1, 2]") == ("not a JSON object", None)
    assert _reject(b'"on"') == ("not a JSON object", None)


def test_bad_id():
    msg = "id must be a string of 1 to 64 characters"
    assert _reject(b'{"led": "on"}') == (msg, None)
    assert _reject(b'{"id": 7, "led": "on"}') == (msg, None)
    assert _reject(b'{"id": "", "led": "on"}') == (msg, None)
    assert _reject(('{"id": "%s", "led": "on"}' % ("x" * 65)).encode()) == (msg, None)


def test_unknown_key_names_the_first_alphabetically():
    assert _reject(b'{"id": "c", "zeta": 1, "beta": 2}') == ("unknown key: beta", "c")


def test_bad_values_keep_the_id():
    assert _reject(b'{"id": "c", "led": "blue"}') == ("led must be one of: on, off, auto", "c")
    assert _reject(b'{"id": "c", "led": ["on"]}') == ("led must be one of: on, off, auto", "c")
    assert _reject(b'{"id": "c", "mode": 1}') == ("mode must be one of: slow, fast", "c")
    assert _reject(b'{"id": "c", "get": 1}') == ("get must be true", "c")
    assert _reject(b'{"id": "c", "get": false}') == ("get must be true", "c")


def test_nothing_to_do():
    assert _reject(b'{"id": "c"}') == ("nothing to do: give led, mode or get", "c")


def test_first_problem_in_table_order_wins():
    # A bad led and a bad mode: led is checked first.
    assert _reject(b'{"id": "c", "mode": "x", "led": "y"}')[0].startswith("led ")
