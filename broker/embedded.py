"""The embedded broker: amqtt 0.12 configured for this project, in one function.

amqtt speaks MQTT 3.1.1 only, checks plugin option names strictly, and loads its event and packet
loggers and `$SYS` when `plugins` is left out (a third of the throughput), so the plugins are named.

With users (`--users FILE`): password auth (`FileAuthPlugin`, Argon2), amqtt's ACL plugin for publish
and subscribe (one entry per user: broker/acl.py) and ours for receiving, retained messages included
(broker/guard.py). With TLS: a TLS listener on HOST:TLS_PORT, and the plain one kept on 127.0.0.1:PORT
only, for tools on the broker's own machine.
"""

import asyncio
import logging

from broker import acl
from broker.guard import GuardedBroker


def config(host, port, users_file=None, users=None, tls=None, tls_port=8883):
    """amqtt's config. `users` is {name: role} read from `users_file`; `tls` is (certfile, keyfile)."""
    if tls:
        listeners = {
            "default": {"type": "tcp", "bind": "127.0.0.1:%d" % port},
            "tls": {"type": "tcp", "bind": "%s:%d" % (host, tls_port), "ssl": True,
                    "certfile": str(tls[0]), "keyfile": str(tls[1])},
        }
    else:
        listeners = {"default": {"type": "tcp", "bind": "%s:%d" % (host, port)}}
    if users_file is None:
        plugins = {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}}
    else:
        plugins = {
            "amqtt.plugins.authentication.FileAuthPlugin": {"password_file": str(users_file)},
            "amqtt.plugins.topic_checking.TopicAccessControlListPlugin": acl.amqtt_rules(users),
            "broker.guard.ReceiveAclPlugin": {
                "receive_acl": {name: acl.read_filters(name, role) for name, role in users.items()}},
        }
    return {"listeners": listeners, "plugins": plugins}


async def serve(host, port, ready=None, stop=None, **options):
    """Run until `stop` (an asyncio.Event) is set; `ready()` is called once the ports are listening.
    `options` are `config()`'s (users_file, users, tls, tls_port)."""
    # amqtt logs an ERROR for every bare TCP connect and close (a port probe); that is not news here.
    logging.getLogger("amqtt").setLevel(logging.CRITICAL)
    broker = GuardedBroker(config(host, port, **options))   # must be made while the event loop runs
    await broker.start()
    try:
        if ready:
            ready()
        await (stop or asyncio.Event()).wait()
    finally:
        await broker.shutdown()
