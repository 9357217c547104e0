"""A small certificate authority for one broker: `python -m broker certs DIR --host NAME ...`.

DIR/ca.pem and DIR/ca.der (the same CA certificate; the board takes DER), DIR/ca.key (0600: whoever
holds it can make certificates every client trusts), DIR/server.pem and DIR/server.key (0600) for the
broker, valid for the names given (IP addresses become IP SANs). A CA already in DIR is kept and reused,
so a new server certificate (another host name) is trusted by clients that already have ca.der.
ECDSA P-256 throughout: what the Pico's mbedTLS handles fast. Validity starts an hour ago (clocks differ).
"""

import datetime
import ipaddress
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 3650
SERVER_DAYS = 825


class CertsError(Exception):
    """A folder or file that cannot be used; the message is for a human."""


def _now():
    return datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "picostate"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _write(path, data, mode):
    tmp = path.with_name("." + path.name + ".tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as e:
        raise CertsError("%s: cannot write: %s" % (path, e.strerror or e)) from None


def subject_names(hosts):
    """The SAN entries for `hosts`: IP addresses as IP entries, anything else as a DNS name."""
    names = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            if not host or any(c.isspace() or c in "/:@" for c in host):
                raise CertsError("not a host name or IP address: %r" % host) from None
            names.append(x509.DNSName(host))
    return names


def _load_ca(folder):
    key_path, cert_path = folder / "ca.key", folder / "ca.pem"
    if not key_path.exists() and not cert_path.exists():
        return None
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (OSError, ValueError) as e:
        raise CertsError("%s: a CA is there but cannot be read (%s): move it away to make a new one"
                         % (folder, getattr(e, "strerror", None) or e)) from None
    return key, cert


def _new_ca(folder):
    key = ec.generate_private_key(ec.SECP256R1())
    start = _now()
    name = _name("picostate CA %s" % start.strftime("%Y-%m-%d"))
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(start + datetime.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    _write(folder / "ca.key", _key_pem(key), 0o600)
    _write(folder / "ca.pem", cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return key, cert


def make(folder, hosts):
    """Make (or reuse) the CA in `folder` and a new server certificate for `hosts`; the paths written."""
    if not hosts:
        raise CertsError("give at least one --host")
    sans = subject_names(hosts)
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CertsError("%s: cannot make the folder: %s" % (folder, e.strerror or e)) from None
    ca = _load_ca(folder)
    made_ca = ca is None
    ca_key, ca_cert = ca or _new_ca(folder)
    key = ec.generate_private_key(ec.SECP256R1())
    start = _now()
    cert = (x509.CertificateBuilder().subject_name(_name(hosts[0])).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(min(start + datetime.timedelta(days=SERVER_DAYS), ca_cert.not_valid_after_utc))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    _write(folder / "ca.der", ca_cert.public_bytes(serialization.Encoding.DER), 0o644)
    _write(folder / "server.key", _key_pem(key), 0o600)
    _write(folder / "server.pem", cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return made_ca, [folder / n for n in ("ca.pem", "ca.der", "ca.key", "server.pem", "server.key")]
