"""Strict JSON (RFC 8259, as the monitor's model reads it with orjson): a syntax check run before
MicroPython's `json.loads`, which accepts text that is not JSON (a trailing, missing or doubled comma,
a missing colon, bytes after the document, leading zeros, `1.`, raw control characters in strings) and
unpaired surrogate escapes such as "\\ud800", which it turns into text that is not valid UTF-8.
MicroPython's json also decodes a valid surrogate pair ("\\ud83d\\ude00") as two separate halves,
which is not valid UTF-8 either: `check` hands back the payload with each pair replaced by its character.

Pure; one pass over the payload's bytes with a small stack, no recursion. It works on byte values, never
on one-character strings: MicroPython interns each character it indexes out of a str, and those names
cost heap that a Pico cannot spare. UTF-8 itself is checked by the decode that follows. Commands are
at most a few hundred bytes, so a byte loop is cheap.
"""

_QUOTE, _BACKSLASH, _MINUS, _PLUS, _DOT = 0x22, 0x5C, 0x2D, 0x2B, 0x2E
_COMMA, _COLON = 0x2C, 0x3A
_OPEN_OBJ, _CLOSE_OBJ, _OPEN_ARR, _CLOSE_ARR = 0x7B, 0x7D, 0x5B, 0x5D
_ESCAPES = (0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74)   # " \ / b f n r t
_LITERALS = (b"true", b"false", b"null")


def _is_ws(c):
    return c == 0x20 or c == 0x0A or c == 0x0D or c == 0x09


def _is_digit(c):
    return 0x30 <= c <= 0x39


def _hex(c):
    """The value of a hex digit's byte, or -1."""
    if 0x30 <= c <= 0x39:
        return c - 0x30
    c |= 0x20                       # lower case
    if 0x61 <= c <= 0x66:
        return c - 0x61 + 10
    return -1


def _u_escape(s, i):
    """The code unit of the \\uXXXX escape whose `u` is at s[i]."""
    if i + 5 > len(s):
        raise ValueError("bad \\u escape")
    u = 0
    for k in range(i + 1, i + 5):
        h = _hex(s[k])
        if h < 0:
            raise ValueError("bad \\u escape")
        u = u << 4 | h
    return u


def _string(s, i, pairs):
    """Scan the string starting at s[i] == '"'; the index after its closing quote. Appends the index
    of each surrogate pair's first escape to `pairs`."""
    i += 1
    n = len(s)
    high = False                    # the previous escape was a high surrogate, waiting for its low one
    while i < n:
        c = s[i]
        if c == _QUOTE:
            if high:
                raise ValueError("unpaired surrogate escape")
            return i + 1
        if c < 0x20:
            raise ValueError("control character in a string")
        if c != _BACKSLASH:
            if high:
                raise ValueError("unpaired surrogate escape")
            i += 1
            continue
        e = s[i + 1] if i + 1 < n else -1
        if e == 0x75:               # u
            u = _u_escape(s, i + 1)
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
        elif e in _ESCAPES:
            if high:
                raise ValueError("unpaired surrogate escape")
            i += 2
        else:
            raise ValueError("bad escape")
    raise ValueError("unterminated string")


def _digits(s, i):
    start = i
    while i < len(s) and _is_digit(s[i]):
        i += 1
    if i == start:
        raise ValueError("bad number")
    return i


def _number(s, i):
    start = i
    n = len(s)
    if s[i] == _MINUS:
        i += 1
    if i < n and s[i] == 0x30:
        i += 1
    else:
        i = _digits(s, i)
    exact = True
    if i < n and s[i] == _DOT:
        i = _digits(s, i + 1)
        exact = False
    if i < n and s[i] | 0x20 == 0x65:   # e or E
        i += 1
        if i < n and (s[i] == _PLUS or s[i] == _MINUS):
            i += 1
        i = _digits(s, i)
        exact = False
    if not exact and float(bytes(s[start:i]).decode()) in (float("inf"), float("-inf")):
        raise ValueError("number out of range")
    return i


def _skip_ws(s, i):
    while i < len(s) and _is_ws(s[i]):
        i += 1
    return i


def check(s):
    """`s` (bytes) for json.loads, surrogate pairs decoded; ValueError unless `s` is exactly one JSON
    document, with white space around it."""
    pairs = []
    _scan(s, pairs)
    if not pairs:
        return s
    parts = []
    done = 0
    for at in pairs:
        code = 0x10000 + ((_u_escape(s, at + 1) - 0xD800) << 10) + _u_escape(s, at + 7) - 0xDC00
        parts.append(s[done:at])
        parts.append(chr(code).encode())
        done = at + 12
    parts.append(s[done:])
    return b"".join(parts)


def _scan(s, pairs):
    stack = []                      # the closing byte of each open container
    i = _skip_ws(s, 0)
    n = len(s)
    while True:
        # A value is expected at s[i].
        if i >= n:
            raise ValueError("unexpected end")
        c = s[i]
        if c == _OPEN_OBJ or c == _OPEN_ARR:
            close = _CLOSE_OBJ if c == _OPEN_OBJ else _CLOSE_ARR
            stack.append(close)
            i = _skip_ws(s, i + 1)
            if i < n and s[i] == close:
                stack.pop()
                i += 1
            elif c == _OPEN_OBJ:
                i = _key(s, i, pairs)
                continue
            else:
                continue
        elif c == _QUOTE:
            i = _string(s, i, pairs)
        elif c == _MINUS or _is_digit(c):
            i = _number(s, i)
        else:
            for word in _LITERALS:
                if s[i:i + len(word)] == word:
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
            close = stack[-1]
            c = s[i] if i < n else -1
            if c == _COMMA:
                i = _skip_ws(s, i + 1)
                if close == _CLOSE_OBJ:
                    i = _key(s, i, pairs)
                break
            if c == close:
                stack.pop()
                i += 1
                continue
            raise ValueError("expected , or a closing bracket")


def _key(s, i, pairs):
    """At an object member: its key and colon; the index of its value."""
    if i >= len(s) or s[i] != _QUOTE:
        raise ValueError("expected a key")
    i = _skip_ws(s, _string(s, i, pairs))
    if i >= len(s) or s[i] != _COLON:
        raise ValueError("expected :")
    return _skip_ws(s, i + 1)
