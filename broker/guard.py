"""What amqtt 0.12.1 does not check by itself: who may RECEIVE a message, retained ones included.

amqtt checks a receiver's rights (`Action.RECEIVE`) only for live messages, and its own ACL plugin has no
receive rules in this config style. Worse, it replays retained messages without asking anyone: on every
connect, those of every filter ANY client ever subscribed to, and on a subscription even when it refused
that subscription (SUBACK 0x80). So node A, subscribing to `pico/B/cmd` or merely connecting after a
monitor subscribed `pico/+/#`, would get B's retained messages.

`ReceiveAclPlugin` answers `Action.RECEIVE` from per-user read rules (broker/acl.py); `GuardedBroker`
asks the plugins (`Action.RECEIVE`) before replaying each retained message. Without any topic plugin
(the anonymous broker) nothing changes.
"""

import asyncio
from dataclasses import dataclass, field

from amqtt.broker import Broker
from amqtt.contexts import Action
from amqtt.plugins.base import BaseTopicPlugin

from broker import acl
from broker.clients import ClientLog


class ReceiveAclPlugin(BaseTopicPlugin):
    """RECEIVE is allowed when the topic is within the receiver's read filters; other actions are left to
    amqtt's TopicAccessControlListPlugin (True here: amqtt needs every plugin's True)."""

    @dataclass
    class Config:
        receive_acl: dict[str, list[str]] = field(default_factory=dict)

    async def topic_filtering(self, *, session=None, topic=None, action=None):
        if action != Action.RECEIVE:
            return True
        name = session.username if session else None
        return bool(topic) and acl.allowed(self.config.receive_acl.get(name or "", ()), topic)


class GuardedBroker(ClientLog, Broker):
    """amqtt's broker, replaying a retained message only to a session allowed to receive it, and saying
    who connects and leaves (broker/clients.py)."""

    async def _publish_retained_messages_for_subscription(self, subscription, session):
        topic_filter, qos = subscription
        handler = self._get_handler(session)
        if handler is None:
            return
        sends = []
        for topic, retained in list(self._retained_messages.items()):
            if not self._matches(topic, topic_filter):
                continue
            if not await self._topic_filtering(session, topic, Action.RECEIVE):
                continue
            sends.append(asyncio.ensure_future(
                handler.mqtt_publish(retained.topic, retained.data, min(qos, retained.qos or qos), retain=True)))
        if sends:
            await asyncio.wait(sends)
