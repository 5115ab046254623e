"""A throw-away certificate authority and leaf certificate, made at every start.

The Azure SDK refuses bearer tokens over plain http, so the sandbox speaks TLS only. The leaf names
127.0.0.1, localhost and every host of the estate (app endpoints, the SMTP host) so a client that connects
to 127.0.0.1 while sending the real name (SNI and Host) still verifies. EC P-256 keys keep start-up fast.

Files written to the work directory:

* ``ca.pem``: the sandbox CA alone;
* ``ca-bundle.pem``: the sandbox CA followed by certifi's roots, what ``REQUESTS_CA_BUNDLE`` points at, so a
  shell that exported the sandbox environment can still reach real HTTPS sites;
* ``server.pem`` / ``server.key``: the leaf chain and its key (mode 0600).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TlsFiles:
    ca: Path
    bundle: Path
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.cert, self.key)
        # HTTP/1.1 only: the Azure SDK (requests) and httpx both speak it, no ALPN h2 to negotiate
        ctx.set_alpn_protocols(["http/1.1"])
        return ctx

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca))


def make_tls(workdir: Path, hostnames: list[str]) -> TlsFiles:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)
    not_before, not_after = now - dt.timedelta(minutes=5), now + dt.timedelta(days=30)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "drctl sandbox CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    leaf_key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    names.extend(x509.DNSName(h) for h in sorted({h.lower() for h in hostnames}) if h.lower() != "localhost")
    leaf_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "drctl sandbox")]))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    workdir.mkdir(parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM
    ca_pem = ca_cert.public_bytes(pem)
    files = TlsFiles(
        ca=workdir / "ca.pem", bundle=workdir / "ca-bundle.pem", cert=workdir / "server.pem", key=workdir / "server.key"
    )
    files.ca.write_bytes(ca_pem)
    files.bundle.write_bytes(ca_pem + b"\n" + _certifi_roots())
    files.cert.write_bytes(leaf_cert.public_bytes(pem) + ca_pem)
    key_bytes = leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(files.key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key_bytes)
    return files


def _certifi_roots() -> bytes:
    try:
        import certifi

        return Path(certifi.where()).read_bytes()
    except (ImportError, OSError):
        return b""
