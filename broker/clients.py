"""Who connects to the embedded broker: one line per client as it comes, is refused, and leaves.

    broker: + pico-a from 127.0.0.1:51724 (user pico-a)
    broker: - pico-a from 127.0.0.1:51724: connection lost (its Last Will published)
    broker: refused monitor-x from 127.0.0.1:51730: bad user name or password (user laptop)

amqtt says none of this at the level we run it (its own log is silenced: it logs an ERROR for every
port probe), and its plugin events do not say why a client left, so `ClientLog` is a mix-in for the
broker class that hooks the three places where amqtt knows: authentication, the start of a session, and
a session's end (a DISCONNECT packet, or none: the connection was lost or timed out).
"""

from amqtt.mqtt.disconnect import DisconnectPacket


def _who(session):
    user = " (user %s)" % session.username if session.username else ""
    return "%s from %s:%s%s" % (session.client_id or "(no client id)", session.remote_address,
                                session.remote_port, user)


class ClientLog:
    """Mix-in for amqtt's Broker: `say(line)` for every client that connects, is refused, or leaves."""

    def say(self, line):
        print("broker: " + line, flush=True)

    async def _authenticate(self, session, listener):
        ok = await super()._authenticate(session, listener)
        if ok:
            self.say("+ " + _who(session))
        else:
            self.say("refused %s: bad user name or password, or no user given" % _who(session))
        return ok

    async def _handle_disconnect(self, client_session, handler, disconnect_waiter):
        clean = isinstance(disconnect_waiter.result(), DisconnectPacket)
        if clean:
            why = "disconnected"
        elif client_session.will_flag:
            why = "connection lost (its Last Will published)"
        else:
            why = "connection lost"
        self.say("- %s: %s" % (_who(client_session), why))
        await super()._handle_disconnect(client_session, handler, disconnect_waiter)
