"""`python -m broker`: run the embedded broker, manage its users (`user`), make its certificates (`certs`).

    python -m broker [--host H] [--port P] [--users FILE] [--tls CERT KEY [--tls-port P]] [--allow-anonymous]
    python -m broker user add FILE NAME [--monitor | --homeassistant]
    python -m broker user remove FILE NAME
    python -m broker user list FILE
    python -m broker certs DIR --host NAME [--host NAME2 ...]

A password comes from PICO_MQTT_PASSWORD or from a prompt that does not echo (asked twice): never from
the command line, and it is never printed. Errors are one `broker: ...` line: exit 1, usage errors 2.
"""

import argparse
import asyncio
import errno
import getpass
import os
import signal
import socket
import sys
from pathlib import Path

from broker import acl, addresses

PROG = "python -m broker"
PASSWORD_ENV = "PICO_MQTT_PASSWORD"


class Failed(Exception):
    """One line for the user, and the exit status."""

    def __init__(self, message, status=1):
        super().__init__(message)
        self.status = status


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise Failed(message, 2)


# --- serve ---------------------------------------------------------------------------------------

def check_free(host, port, flag):
    """Fail in one line if `port` on `host` cannot be listened on (a system Mosquitto on 1883 is common),
    before amqtt tries and ends in a traceback-sized error. Binds as asyncio's server will (SO_REUSEADDR)."""
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        raise Failed("cannot listen on %s: %s" % (host, e.strerror), 2) from None
    family, kind, proto, _, addr = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(addr)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise Failed("port %d on %s is in use (try %s %d)" % (port, host, flag, port + 1), 2) from None
            raise Failed("cannot listen on %s:%d: %s" % (host, port, e.strerror or e), 2) from None

def serve_parser():
    ap = _Parser(prog=PROG, description="Run the embedded MQTT broker (amqtt, MQTT 3.1.1). Other commands: "
                                        "`%s user add|remove|list ...`, `%s certs DIR --host NAME`." % (PROG, PROG))
    ap.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    ap.add_argument("--port", type=addresses.port, default=1883, help="plain MQTT port (default 1883); with --tls, on "
                                                             "127.0.0.1 only")
    ap.add_argument("--users", metavar="FILE", help="require these users' passwords, and apply their roles' ACL")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve MQTT over TLS on --host:--tls-port")
    ap.add_argument("--tls-port", type=addresses.port, default=8883, help="TLS port (default 8883)")
    ap.add_argument("--allow-anonymous", action="store_true",
                    help="allow a broker without --users on an address other than loopback")
    return ap


def do_serve(argv):
    from broker.users import Users, UsersError

    args = serve_parser().parse_args(argv)
    if args.users and args.allow_anonymous:
        raise Failed("--allow-anonymous and --users exclude each other", 2)
    if not args.users and not args.allow_anonymous and not addresses.is_loopback(args.host):
        raise Failed("refusing to serve %s without --users: anyone there could command every node (give "
                     "--users FILE, or --allow-anonymous on a network you trust)" % args.host, 2)
    options = {}
    if args.users:
        try:
            users = Users.load(args.users)
        except UsersError as e:
            raise Failed(str(e)) from None
        if not users.entries:
            raise Failed("%s has no users: add one with `%s user add %s NAME`" % (args.users, PROG, args.users))
        options.update(users_file=Path(args.users).resolve(), users=users.roles())
    if args.tls:
        for path in args.tls:
            if not os.access(path, os.R_OK):
                raise Failed("cannot read %s" % path)
        options.update(tls=args.tls, tls_port=args.tls_port)

    ports = [("127.0.0.1" if args.tls else args.host, args.port, "--port")]
    if args.tls:
        ports.append((args.host, args.tls_port, "--tls-port"))
    for host, port, flag in ports:
        check_free(host, port, flag)

    async def run():
        from broker.embedded import serve

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)

        def ready():
            where = ("%s:%d (TLS) and 127.0.0.1:%d" % (args.host, args.tls_port, args.port) if args.tls
                     else "%s:%d" % (args.host, args.port))
            who = ("%d user(s) from %s" % (len(options["users"]), args.users) if args.users else "anonymous")
            print("broker: listening on %s (amqtt, MQTT 3.1.1; %s)" % (where, who), flush=True)

        await serve(args.host, args.port, ready, stop, **options)

    try:
        asyncio.run(run())
    except OSError as e:
        raise Failed("cannot listen on %s: %s" % (args.host, e.strerror or e)) from None
    except Exception as e:  # noqa: BLE001 (amqtt's own errors: a bad certificate or key, a plugin refusing)
        raise Failed("cannot start: %s: %s" % (type(e).__name__, e)) from None
    print("broker: stopped", flush=True)
    return 0


# --- user ----------------------------------------------------------------------------------------

_USERS_FILE = "the users file (amqtt's; mosquitto.passwd and mosquitto.acl are kept beside it)"


def user_parser():
    ap = _Parser(prog=PROG + " user", description="Manage the broker's users (amqtt's file, and Mosquitto's "
                                                   "mosquitto.passwd and mosquitto.acl beside it).")
    sub = ap.add_subparsers(dest="action", required=True, metavar="{add,remove,list}")
    p = sub.add_parser("add", help="add a user, or change its password and role (password from %s or a "
                                   "prompt)" % PASSWORD_ENV)
    p.add_argument("file", metavar="FILE", help=_USERS_FILE)
    p.add_argument("name", metavar="NAME", help="the user name; for a node: its device id")
    role = p.add_mutually_exclusive_group()
    role.add_argument("--monitor", dest="role", action="store_const", const=acl.MONITOR,
                      help="reads every node, sends commands")
    role.add_argument("--homeassistant", dest="role", action="store_const", const=acl.HOMEASSISTANT,
                      help="for Home Assistant: reads every node, sends commands, says its status")
    p = sub.add_parser("remove", help="remove a user")
    p.add_argument("file", metavar="FILE", help=_USERS_FILE)
    p.add_argument("name", metavar="NAME", help="the user to remove")
    p = sub.add_parser("list", help="list the users and their roles")
    p.add_argument("file", metavar="FILE", help=_USERS_FILE)
    return ap


def read_password(name):
    """The new password for `name`: PICO_MQTT_PASSWORD, or typed twice at a terminal without echo."""
    password = os.environ.get(PASSWORD_ENV)
    if password is not None:
        return password
    if not sys.stdin.isatty():
        raise Failed("no password: set %s or run at a terminal" % PASSWORD_ENV)
    try:
        first = getpass.getpass("password for %s: " % name)
        second = getpass.getpass("again: ")
    except (EOFError, KeyboardInterrupt):
        raise Failed("no password given") from None
    if first != second:
        raise Failed("the two passwords differ: nothing changed")
    return first


def do_user(argv):
    from broker.users import Users, UsersError

    args = user_parser().parse_args(argv)
    try:
        users = Users.load(args.file, missing_ok=args.action == "add")
        if args.action == "list":
            for name, (role, _, mosq) in sorted(users.entries.items()):
                print("%s %s%s" % (name, role, "" if mosq else " (not in mosquitto.passwd: add it again)"))
            return 0
        if args.action == "add":
            reason = acl.check_name(args.name)
            if reason:
                raise Failed("%s: %r" % (reason, args.name), 2)
            role = args.role or acl.NODE
            users.add(args.name, read_password(args.name), role)
            users.save()
            print("broker: %s is a %s user in %s (and %s, %s)" % (args.name, role, args.file, users.mosquitto_passwd,
                                                                  users.mosquitto_acl))
        else:
            users.remove(args.name)
            users.save()
            print("broker: %s removed from %s (and %s)" % (args.name, args.file, users.mosquitto_passwd))
    except UsersError as e:
        raise Failed(str(e)) from None
    return 0


# --- certs ---------------------------------------------------------------------------------------

def certs_parser():
    ap = _Parser(prog=PROG + " certs", description="Make a small CA (kept and reused) and a server certificate.")
    ap.add_argument("dir", metavar="DIR", help="where the CA and the server's certificate and key go (a CA "
                                              "already there is kept and reused)")
    ap.add_argument("--host", action="append", required=True, metavar="NAME",
                    help="a name or IP address clients use for the broker (repeatable)")
    return ap


def do_certs(argv):
    from broker.certs import CertsError, make

    args = certs_parser().parse_args(argv)
    try:
        made_ca, paths = make(args.dir, args.host)
    except CertsError as e:
        raise Failed(str(e)) from None
    print("broker: %s CA, server certificate for %s: %s" % ("new" if made_ca else "kept the", ", ".join(args.host),
                                                            " ".join(str(p) for p in paths)))
    return 0


COMMANDS = {"user": do_user, "certs": do_certs}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        if argv and argv[0] in COMMANDS:
            return COMMANDS[argv[0]](argv[1:])
        return do_serve(argv)
    except Failed as e:
        print("broker: %s" % e, file=sys.stderr, flush=True)
        return e.status
