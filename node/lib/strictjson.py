"""Strict JSON (RFC 8259, as the monitor's model reads it with orjson): a syntax check run before
MicroPython's `json.loads`, which accepts text that is not JSON (a trailing, missing or doubled comma,
a missing colon, bytes after the document, leading zeros, `1.`, raw control characters in strings) and
unpaired surrogate escapes such as "\\ud800", which it turns into text that is not valid UTF-8.

MicroPython's json also decodes a valid surrogate pair ("\\ud83d\\ude00") as two separate halves,
which is not valid UTF-8 either: `check` hands back the text with each pair replaced by its character.

Pure; one pass over the text with a small stack, no recursion. `check(text)` returns the text for
`json.loads` or raises ValueError with the reason. Commands are at most a few hundred bytes, so a
character loop is cheap.
"""

_WS = " \t\n\r"
_DIGITS = "0123456789"
_HEX = "0123456789abcdefABCDEF"
_ESCAPES = '"\\/bfnrt'
_LITERALS = (("true", "t"), ("false", "f"), ("null", "n"))


def _string(s, i, pairs):
    """Scan the string starting at s[i] == '"'; the index after its closing quote. Appends the index
    of each surrogate pair's first escape to `pairs`."""
    i += 1
    n = len(s)
    high = False                    # the previous escape was a high surrogate, waiting for its low one
    while i < n:
        c = s[i]
        if c == '"':
            if high:
                raise ValueError("unpaired surrogate escape")
            return i + 1
        if c < " ":
            raise ValueError("control character in a string")
        if c != "\\":
            if high:
                raise ValueError("unpaired surrogate escape")
            i += 1
            continue
        e = s[i + 1:i + 2]
        if e == "u":
            h = s[i + 2:i + 6]
            if len(h) != 4 or any(ch not in _HEX for ch in h):
                raise ValueError("bad \\u escape")
            u = int(h, 16)
            if 0xDC00 <= u <= 0xDFFF:
                if not high:
                    raise ValueError("unpaired surrogate escape")
                high = False
                pairs.append(i - 6)
            elif high:
                raise ValueError("unpaired surrogate escape")
            else:
                high = 0xD800 <= u <= 0xDBFF
            i += 6
        elif e and e in _ESCAPES:
            if high:
                raise ValueError("unpaired surrogate escape")
            i += 2
        else:
            raise ValueError("bad escape")
    raise ValueError("unterminated string")


def _digits(s, i):
    start = i
    while i < len(s) and s[i] in _DIGITS:
        i += 1
    if i == start:
        raise ValueError("bad number")
    return i


def _number(s, i):
    start = i
    if s[i] == "-":
        i += 1
    if s[i:i + 1] == "0":
        i += 1
    else:
        i = _digits(s, i)
    exact = True
    if s[i:i + 1] == ".":
        i = _digits(s, i + 1)
        exact = False
    if s[i:i + 1] in ("e", "E"):
        i += 1
        if s[i:i + 1] in ("+", "-"):
            i += 1
        i = _digits(s, i)
        exact = False
    if not exact and float(s[start:i]) in (float("inf"), float("-inf")):
        raise ValueError("number out of range")
    return i


def _skip_ws(s, i):
    while i < len(s) and s[i] in _WS:
        i += 1
    return i


def check(s):
    """`s` (a str) for json.loads, surrogate pairs decoded; ValueError unless `s` is exactly one JSON
    document, with white space around it."""
    pairs = []
    _scan(s, pairs)
    if not pairs:
        return s
    parts = []
    done = 0
    for at in pairs:
        code = 0x10000 + ((int(s[at + 2:at + 6], 16) - 0xD800) << 10) + int(s[at + 8:at + 12], 16) - 0xDC00
        parts.append(s[done:at])
        parts.append(chr(code))
        done = at + 12
    parts.append(s[done:])
    return "".join(parts)


def _scan(s, pairs):
    stack = []                      # "{" or "[" per open container
    i = _skip_ws(s, 0)
    n = len(s)
    while True:
        # A value is expected at s[i].
        if i >= n:
            raise ValueError("unexpected end")
        c = s[i]
        if c == "{" or c == "[":
            stack.append(c)
            i = _skip_ws(s, i + 1)
            close = "}" if c == "{" else "]"
            if s[i:i + 1] == close:
                stack.pop()
                i += 1
            elif c == "{":
                i = _key(s, i, pairs)
                continue
            else:
                continue
        elif c == '"':
            i = _string(s, i, pairs)
        elif c == "-" or c in _DIGITS:
            i = _number(s, i)
        else:
            for word, first in _LITERALS:
                if c == first and s[i:i + len(word)] == word:
                    i += len(word)
                    break
            else:
                raise ValueError("unexpected character")
        # After a value: a comma and the next member, the end of containers, or the end of text.
        while True:
            i = _skip_ws(s, i)
            if not stack:
                if i != n:
                    raise ValueError("text after the document")
                return
            top = stack[-1]
            c = s[i:i + 1]
            if c == ",":
                i = _skip_ws(s, i + 1)
                if top == "{":
                    i = _key(s, i, pairs)
                break
            if c == ("}" if top == "{" else "]"):
                stack.pop()
                i += 1
                continue
            raise ValueError("expected , or a closing bracket")


def _key(s, i, pairs):
    """At an object member: its key and colon; the index of its value."""
    if s[i:i + 1] != '"':
        raise ValueError("expected a key")
    i = _skip_ws(s, _string(s, i, pairs))
    if s[i:i + 1] != ":":
        raise ValueError("expected :")
    return _skip_ws(s, i + 1)
