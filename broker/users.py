"""The users file: who may log in to the broker, with which password and role, and Mosquitto's copy of it.

FILE is what amqtt's `FileAuthPlugin` reads: `name:hash` lines (Argon2, made with `pwdlib`), and lines
starting with `#`, which it skips. The role of each user is kept in such a comment, `#role name ROLE`
(a user without one is a node). Every change also writes, in FILE's folder, Mosquitto's files:
`mosquitto.passwd` (its own `$7$` PBKDF2-SHA512 format) and `mosquitto.acl` (broker/acl.py). All three
are written whole to a temporary file, mode 0600, then renamed over the old one.
"""

import base64
import hashlib
import os
import secrets
from pathlib import Path

from pwdlib.hashers.argon2 import Argon2Hasher

from broker import acl

MOSQUITTO_PASSWD = "mosquitto.passwd"
MOSQUITTO_ACL = "mosquitto.acl"
# Mosquitto checks a password at every connect: 20,000 rounds cost it about 15 ms (mosquitto_passwd
# 2.0 uses 101), and make a stolen mosquitto.passwd that much slower to guess from.
PBKDF2_ROUNDS = 20_000
MIN_PASSWORD = 8
_HEADER = ("# picostate broker users: managed by `python -m broker user`. amqtt reads the name:hash lines;\n"
           "# `#role NAME ROLE` gives a user's role (node, monitor, homeassistant).\n")


class UsersError(Exception):
    """A users file that cannot be read or written, or a bad name or password; the message is for a human."""


def mosquitto_hash(password, salt=None, rounds=PBKDF2_ROUNDS):
    """Mosquitto 2's `$7$ROUNDS$SALT$HASH` (PBKDF2-HMAC-SHA512, 12-byte salt, 64-byte hash, base64)."""
    salt = salt or secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, rounds, 64)
    return "$7$%d$%s$%s" % (rounds, base64.b64encode(salt).decode(), base64.b64encode(digest).decode())


def argon2_hash(password):
    return Argon2Hasher().hash(password)


def check_password(password):
    if len(password) < MIN_PASSWORD:
        raise UsersError("a password needs at least %d characters" % MIN_PASSWORD)
    if "\n" in password or "\r" in password or "\0" in password:
        raise UsersError("a password cannot contain a line break or NUL")


class Users:
    """The users of one FILE: `entries` is {name: (role, argon2 hash, mosquitto hash or None)}.
    Mosquitto's hashes are kept in mosquitto.passwd (they cannot be remade without the password)."""

    def __init__(self, path):
        self.path = Path(path)
        self.entries = {}

    @property
    def mosquitto_passwd(self):
        return self.path.parent / MOSQUITTO_PASSWD

    @property
    def mosquitto_acl(self):
        return self.path.parent / MOSQUITTO_ACL

    def roles(self):
        return {name: role for name, (role, _, _) in self.entries.items()}

    @classmethod
    def load(cls, path, missing_ok=False):
        """Read FILE (and mosquitto.passwd beside it, when there); `UsersError` when it cannot be read."""
        users = cls(path)
        if users.path.name in (MOSQUITTO_PASSWD, MOSQUITTO_ACL):
            raise UsersError("%s: that name is kept for Mosquitto's copy: name the users file otherwise" % path)
        try:
            text = users.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            if missing_ok:
                return users
            raise UsersError("%s: no such users file" % path) from None
        except (OSError, UnicodeDecodeError) as e:
            raise UsersError("%s: cannot read: %s" % (path, getattr(e, "strerror", None) or e)) from None
        roles, hashes = {}, {}
        for number, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if line.startswith("#role "):
                parts = line.split()
                if len(parts) != 3 or parts[2] not in acl.ROLES:
                    raise UsersError("%s:%d: expected `#role NAME ROLE` (ROLE one of %s)"
                                     % (path, number, ", ".join(acl.ROLES)))
                roles[parts[1]] = parts[2]
            elif line and not line.startswith("#"):
                name, sep, hashed = line.partition(":")
                if not sep or acl.check_name(name) or not hashed.startswith("$argon2"):
                    raise UsersError("%s:%d: expected NAME:ARGON2-HASH" % (path, number))
                hashes[name] = hashed
        theirs = users._read_mosquitto()
        for name, hashed in hashes.items():
            users.entries[name] = (roles.get(name, acl.NODE), hashed, theirs.get(name))
        return users

    def _read_mosquitto(self):
        try:
            text = self.mosquitto_passwd.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as e:
            raise UsersError("%s: cannot read: %s" % (self.mosquitto_passwd, getattr(e, "strerror", None) or e)) from None
        found = {}
        for line in text.splitlines():
            name, sep, hashed = line.strip().partition(":")
            if sep and hashed.startswith("$7$"):
                found[name] = hashed
        return found

    def add(self, name, password, role=acl.NODE):
        """Add `name` (or change its password and role)."""
        reason = acl.check_name(name)
        if reason:
            raise UsersError("%s: %r" % (reason, name))
        if role not in acl.ROLES:
            raise UsersError("unknown role %r" % role)
        check_password(password)
        self.entries[name] = (role, argon2_hash(password), mosquitto_hash(password))

    def remove(self, name):
        if name not in self.entries:
            raise UsersError("%s: no user %r" % (self.path, name))
        del self.entries[name]

    def save(self):
        """Write FILE, mosquitto.passwd and mosquitto.acl (each whole, 0600, then renamed into place)."""
        ours = [_HEADER]
        theirs = []
        for name, (role, hashed, mosq) in sorted(self.entries.items()):
            ours.append("#role %s %s\n%s:%s\n" % (name, role, name, hashed))
            if mosq:  # a user made before Mosquitto's copy existed has none: add it again to get one
                theirs.append("%s:%s\n" % (name, mosq))
        _write(self.path, "".join(ours))
        _write(self.mosquitto_passwd, "".join(theirs))
        _write(self.mosquitto_acl, acl.mosquitto_acl(self.roles()))


def _write(path, text):
    path = Path(path)
    tmp = path.with_name(".%s.%s.tmp" % (path.name, secrets.token_hex(4)))
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise UsersError("%s: cannot write: %s" % (path, e.strerror or e)) from None
