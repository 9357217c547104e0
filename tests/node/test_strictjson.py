# Pure-module cases: plain functions and asserts, run by pytest and by tests/node/mp_run.py under MicroPython.
from command import CommandError, parse
from strictjson import check

# What MicroPython's json.loads accepts but JSON (and the monitor's model) does not.
NOT_JSON = (
    '{"id": "c", "get": true,}',        # a trailing comma
    '{"id": "c" "get": true}',          # a missing comma
    '{"id": "c",, "get": true}',        # a double comma
    '[1,,2]',
    '{"id" "c"}',                       # a missing colon
    '{"id": "c", "get": true}\x00',     # a trailing NUL
    '{"id": "c"}x',
    '[1] [2]',
    '01', '1.', '.5', '+1', '-', '1e', '1e999', '-1E+999',
    '"\x01"', '"tab\there"',             # raw control characters in a string
    '"\\ud800"', '"\\udc00"', '"\\ud800x"', '"\\ud800\\u0041"', '"\\ud800\\n"',  # unpaired surrogates
    '"\\x41"', '"\\u12"', '"abc', "'a'",
    'NaN', 'Infinity', '-Infinity', 'tru', 'nul', 'True',
    '{', '[', '{"a": 1', '[1, 2', '{"a": }', '{1: 2}', '{"a": 1}}', ']', '',
    ' ',
)

JSON = (
    '{}', '[]', ' { } ', '\t[\n]\r\n', '0', '-0', '1.5e-3', '10E+2', '-12.0', 'true', 'false', 'null',
    '""', '"\\u00e9\\ud83d\\ude00 \\" \\\\ \\/ \\b \\f \\n \\r \\t"', '"\u00e9\u20ac"',
    '{"id": "c1", "led": "on"}', '[[[{"a": [1, {"b": null}]}]]]', '{"a": {}, "b": [], "c": ""}',
)


def test_strict_json_rejects_what_is_not_json():
    for text in NOT_JSON:
        try:
            check(text.encode())
        except ValueError:
            continue
        raise AssertionError("accepted as JSON: %r" % (text,))


def test_strict_json_accepts_json():
    for text in JSON:
        out = check(text.encode())
        assert out == text.encode() or "\\ud83d" in text, text     # unchanged but for surrogate pairs


def test_commands_that_are_not_json_are_rejected_as_such():
    for raw in (b'{"id": "c", "led": "on",}', b'{"id": "c" "led": "on"}', b'{"id": "c",, "led": "on"}',
                b'{"id": "c", "led": "on"}\x00', b'{"id": "\\ud800", "get": true}'):
        try:
            parse(raw)
        except CommandError as e:
            assert (e.reason, e.cmd_id) == ("not JSON", None), (raw, e.reason)
            continue
        raise AssertionError("ran a command that is not JSON: %r" % (raw,))


def test_a_surrogate_pair_in_an_id_is_fine():
    assert parse(b'{"id": "\\ud83d\\ude00", "get": true}') == ("\U0001F600", {"get": True})


def test_surrogate_pairs_come_back_as_their_characters():
    assert check(b'"\\ud83d\\ude00"') == '"\U0001F600"'.encode()
    assert check(b'["\\\\ud83d", "a\\uD83D\\uDE00b\\ud83d\\ude01"]') == \
        '["\\\\ud83d", "a\U0001F600b\U0001F601"]'.encode()
    assert check(b'{"a": 1}') == b'{"a": 1}'
