"""Run a command, pass its output through, and create a marker file once it prints a line that starts
with TEXT (a traceback quoting a line of code must not count): a health check can then test for the
file. Signals (SIGTERM from `docker stop`, SIGINT) go to the command;
the exit status is the command's (128 + N when signal N ended it).

    python docker/ready_when.py --line TEXT --mark FILE -- COMMAND [ARG ...]

Used for the `monitor` service: `monitor record` says "monitor: recording FILE" once it has subscribed,
and the node must not start before then, or the recording would miss its first messages.
"""

import os
import signal
import subprocess
import sys
import threading


def main(argv):
    if "--" not in argv:
        print(__doc__, file=sys.stderr)
        return 2
    split = argv.index("--")
    options, command = argv[:split], argv[split + 1:]
    prefix = options[options.index("--line") + 1].encode()
    mark = options[options.index("--mark") + 1]
    if os.path.exists(mark):
        os.unlink(mark)
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: child.send_signal(signum))

    def pump(source, sink):
        for line in iter(source.readline, b""):
            sink.buffer.write(line)
            sink.flush()
            if line.startswith(prefix) and not os.path.exists(mark):
                with open(mark, "w") as f:
                    f.write(line.decode(errors="replace"))

    pumps = [threading.Thread(target=pump, args=(child.stdout, sys.stdout), daemon=True),
             threading.Thread(target=pump, args=(child.stderr, sys.stderr), daemon=True)]
    for p in pumps:
        p.start()
    status = child.wait()
    for p in pumps:
        p.join(5)
    return 128 - status if status < 0 else status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
