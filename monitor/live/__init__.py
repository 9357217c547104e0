"""The `record`/`watch` process (the second of their two processes, the one you start): it starts the
receiver (`monitor.receiving`, a child that writes the recording), follows the recording as it grows, and
feeds each line to the checker (`monitor.checker`), on another core than the receiver's; `watch` also draws
the live table.

| module | owns |
|---|---|
| `session` | `Session`: the receiver's life, its events, the recording followed and checked, in order |
| `follow` | reading the complete lines another process appends to a file |
| `watch` | `python -m monitor watch`'s screen, redrawn in place (rich) |
| `view` | the table `watch` shows: one row per device, the newest findings (pure: renders to text) |
| `keys` | `watch`'s keyboard: a terminal's stdin in cbreak mode, its bytes as key names (`parse`, pure) |
| `commands` | what `watch`'s keys send to the selected device (through `monitor.send`), and each ack |
"""
