"""The embedded broker: amqtt 0.12 configured for this project, in one function.

amqtt speaks MQTT 3.1.1 only, checks plugin option names strictly, and loads its event and packet
loggers and `$SYS` when `plugins` is left out (a third of the throughput), so the plugins are named.
"""

import asyncio
import logging

from amqtt.broker import Broker


def config(host, port):
    return {
        "listeners": {"default": {"type": "tcp", "bind": "%s:%d" % (host, port)}},
        "plugins": {
            "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
        },
    }


async def serve(host, port, ready=None, stop=None):
    """Run until `stop` (an asyncio.Event) is set; `ready()` is called once the port is listening."""
    # amqtt logs an ERROR for every bare TCP connect and close (a port probe); that is not news here.
    logging.getLogger("amqtt").setLevel(logging.CRITICAL)
    broker = Broker(config(host, port))   # must be made while the event loop runs
    await broker.start()
    try:
        if ready:
            ready()
        await (stop or asyncio.Event()).wait()
    finally:
        await broker.shutdown()
