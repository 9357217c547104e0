# Pure-module cases: plain functions and asserts, run by pytest and by tests/node/mp_run.py under MicroPython.
# (tests/integration/test_node_security.py runs the TLS itself, with PEM and DER CA files, on both brokers.)
from broker_tls import TLSError, der_from, resolve, words


def test_a_relative_ca_is_beside_config_py():
    assert resolve("ca.der", "/firmware/a/config.py") == "/firmware/a/ca.der"
    assert resolve("/certs/ca.der", "/firmware/a/config.py") == "/certs/ca.der"
    assert resolve("ca.der", "config.py") == "ca.der"      # no folder known: as given


def test_der_is_taken_as_it_is():
    assert der_from(b"\x30\x82\x01\x0a") == b"\x30\x82\x01\x0a"


def test_pem_without_its_end_line_is_an_error_in_words():
    try:
        der_from(b"-----BEGIN CERTIFICATE-----\nMIIB\n")
    except TLSError as e:
        assert "END CERTIFICATE" in str(e)
    else:
        raise AssertionError("no TLSError")


def test_pem_is_decoded_to_its_der_bytes():
    body = b"\x30\x03\x02\x01\x07" * 20
    from binascii import b2a_base64
    text = b2a_base64(body).strip()
    pem = b"junk\r\n-----BEGIN CERTIFICATE-----\r\n" + text[:40] + b"\r\n" + text[40:] + b"\r\n-----END CERTIFICATE-----\n"
    assert der_from(pem) == body


def test_mbedtls_verdicts_in_words():
    cn = ValueError("\nThe certificate Common Name (CN) does not match with the expected CN\n")
    assert words(cn, "mqtt.lan", "/ca.der").startswith("the broker's certificate is for another host name than mqtt.lan")
    ca = ValueError("\nThe certificate is not correctly signed by the trusted CA\n")
    assert words(ca, "h", "/ca.der").startswith("the broker's certificate is not signed by the CA in /ca.der")
    old = ValueError("\nThe certificate validity starts in the future\n")
    assert "is the clock set?" in words(old, "h", "/ca.der")
    assert words(ValueError(), "h", "/ca.der") == "TLS handshake failed: ValueError"
