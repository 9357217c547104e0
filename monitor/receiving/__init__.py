"""The receiver process of `record`/`watch` (the first of their two processes): a child that subscribes to
the nodes and appends every message to the recording, and does nothing else, so that recording keeps up
with the broker. Its parent, the `record`/`watch` process (`monitor.live`), checks what it writes.

| module | owns |
|---|---|
| `receiver` | the process: `python -m monitor.receiving.receiver CONFIG` (`spawn()`), its events to the parent |
| `subscriber` | the MQTT subscription, pumped on the receiver's one thread, every message to one sink |
| `writer` | the recording's writer: lines batched into one `write(2)`, the file's lock, a full disk |

Modules the receiver shares with other commands: `monitor.mqtt` (the broker connection), `monitor.recording`
(the recording's format).
"""
