"""TLS to the broker: the CA read and the context made once, the board's clock set before a certificate
is checked, and mbedTLS's complaints in words. (Not named `tls`: that is MicroPython's own module.)

The link wraps its own non-blocking socket (umqtt.simple's `ssl=` is not used: in both 1.3.4 and 1.8.0
it wraps inside `connect()`, which would block the scheduler for the whole handshake while the network
answers). The handshake then runs as the link sends its CONNECT: each write that mbedTLS cannot finish
yet returns None, and the link waits on the socket with asyncio (mbedTLS's poll waits on whichever
direction the handshake needs next). The arithmetic of the handshake itself (ECDHE and ECDSA on P-256:
CPU work, not measured on a board here) cannot yield: the other tasks wait for it, once per connect.

micropython-lib's `ssl.SSLContext` starts with `verify_mode = CERT_NONE`: set to CERT_REQUIRED here,
with `server_hostname` = BROKER_HOST, so the certificate must be signed by the CA in BROKER_CA and be
for that host name. mbedTLS on the board takes only DER: a PEM file is decoded here.
"""

import time
from binascii import a2b_base64

CLOCK_VALID_FROM = 2025     # a board whose clock says an earlier year has not been set since power-up

_BEGIN = b"-----BEGIN CERTIFICATE-----"
_END = b"-----END CERTIFICATE-----"


class TLSError(Exception):
    """A TLS set-up or handshake failure, already said in words."""


def der_from(data):
    """The DER bytes of the first certificate in `data`, which is DER already or PEM."""
    start = data.find(_BEGIN)
    if start < 0:
        return data
    end = data.find(_END, start)
    if end < 0:
        raise TLSError("the CA file is PEM with no END CERTIFICATE line")
    try:
        return a2b_base64(data[start + len(_BEGIN):end].replace(b"\r", b"").replace(b"\n", b""))
    except ValueError:
        raise TLSError("the CA file is PEM whose base64 does not decode")


def resolve(ca_path, config_file):
    """BROKER_CA as a path: a relative one is beside config.py (where `python -m deploy` puts it)."""
    if ca_path.startswith("/") or "/" not in config_file:
        return ca_path
    return config_file.rsplit("/", 1)[0] + "/" + ca_path


def make_context(ca_path):
    import ssl

    try:
        with open(ca_path, "rb") as f:
            data = f.read()
    except OSError:
        raise TLSError("no CA file %s on the board (BROKER_CA)" % ca_path)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.verify_mode = ssl.CERT_REQUIRED     # micropython-lib's default is CERT_NONE
    try:
        ctx.load_verify_locations(cadata=der_from(data))
    except ValueError:
        raise TLSError("the CA file %s is not a certificate (DER or PEM)" % ca_path)
    return ctx


def clock_set():
    return time.gmtime()[0] >= CLOCK_VALID_FROM


def set_clock(host="pool.ntp.org"):
    """Set the board's clock from NTP if it has not been set since power-up. Blocks the scheduler while
    DNS and the NTP server answer (ntptime waits at most 1 s for its answer); only ever runs before a
    TLS connect on a board whose clock is unset. True when the clock is (now) set."""
    if clock_set():
        return True
    from log import log     # here: the rest of this module is pure, and runs under CPython's tests too

    try:
        import ntptime

        ntptime.host = host
        ntptime.settime()
    except ImportError:
        why = "this firmware has no ntptime"
    except Exception as e:  # OSError (no answer, no DNS), OverflowError on a bad answer
        why = "%s: %s" % (type(e).__name__, e)
    else:
        t = time.gmtime()
        log("clock", "set from NTP: %04d-%02d-%02d %02d:%02d:%02d UTC" % t[:6])
        return True
    log("clock", "cannot set the time from NTP (%s): the broker's certificate will look not yet valid"
        % why)
    return False


def words(e, host, ca_path):
    """What a failed handshake means, from the ValueError mbedTLS raises with its verify report."""
    text = " ".join(str(e).split()) or type(e).__name__
    if "CN" in text:
        return "the broker's certificate is for another host name than %s (%s)" % (host, text)
    if "trusted CA" in text or "not correctly signed" in text:
        return "the broker's certificate is not signed by the CA in %s (%s)" % (ca_path, text)
    if "expired" in text or "future" in text:
        return "the broker's certificate is not valid at the board's time (%s); is the clock set?" % text
    return "TLS handshake failed: %s" % text


class Client:
    """The link's TLS, made at its first TLS connect: the CA's path, and the context once it is made."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.ca_path = resolve(cfg.BROKER_CA, getattr(cfg, "__file__", ""))
        self.context = None

    def wrap(self, sock):
        """`sock` wrapped for TLS (closed if that fails); the handshake runs as the CONNECT goes out."""
        try:
            set_clock(self.cfg.NTP_HOST)     # a certificate cannot be checked against an unset clock
            if self.context is None:
                self.context = make_context(self.ca_path)
            return self.context.wrap_socket(sock, server_hostname=self.cfg.BROKER_HOST,
                                            do_handshake_on_connect=False)
        except BaseException:
            sock.close()
            raise

    def failure(self, e, port):
        """(refused, words) for what `wrap()` or the handshake raised: refused is True when retrying
        soon will not mend it (no CA file, a certificate that does not verify)."""
        if isinstance(e, TLSError):
            return True, str(e)
        if isinstance(e, ValueError):       # mbedTLS's verdict on the broker's certificate
            return True, words(e, self.cfg.BROKER_HOST, self.ca_path)
        code = e.args[0] if e.args else 0
        if isinstance(code, int) and code < -1:
            what = "mbedTLS error -0x%04X" % -code
        elif isinstance(code, int):
            import errno

            what = errno.errorcode.get(code, "error %d" % code)    # ECONNRESET: a plain port hung up
        else:
            what = "%s: %s" % (type(e).__name__, e)
        return False, "TLS handshake failed (%s): is port %d a TLS port?" % (what, port)
