"""`python -m broker [--host H] [--port P]`: the embedded amqtt broker, until Ctrl-C or SIGTERM."""

import argparse
import asyncio
import signal
import sys

from broker.embedded import serve


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m broker", description="Run the embedded MQTT broker (amqtt, MQTT 3.1.1).")
    ap.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=1883, help="TCP port (default 1883)")
    args = ap.parse_args(argv)
    if not 0 < args.port < 65536:
        ap.error("--port must be from 1 to 65535")

    async def run():
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)

        def ready():
            print("broker: listening on %s:%d (amqtt, MQTT 3.1.1)" % (args.host, args.port), flush=True)

        await serve(args.host, args.port, ready, stop)

    try:
        asyncio.run(run())
    except OSError as e:
        print("broker: cannot listen on %s:%d: %s" % (args.host, args.port, e.strerror or e), file=sys.stderr)
        return 1
    print("broker: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
