"""Where a server listens, for the two that do: the embedded broker (broker/cli.py) and the monitor's
dashboard (monitor/web/run.py). Pure: nothing is opened here.
"""

import argparse
import ipaddress


def is_loopback(host):
    """Whether `host` (a name or an address, IPv6 in brackets or not) is this machine's own loopback:
    only then may a server listen without asking who connects."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def port(text):
    """A TCP port number from a command line (argparse `type=`): 1 to 65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not a port number: %r" % text) from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError("a port is from 1 to 65535: %r" % text)
    return value
