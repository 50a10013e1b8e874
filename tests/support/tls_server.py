"""Local HTTPS servers for the stand-ins of Azure services that have no emulator (Key Vault, ACS):
a self-signed certificate the Azure SDK is told to trust, and a threaded server on a free port."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def make_self_signed_cert(folder: Path, host: str = "127.0.0.1", *, prefix: str = "") -> tuple[Path, Path]:
    """Write a self-signed server certificate (also usable as its own CA bundle) and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host)), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path = folder / f"{prefix}cert.pem"
    key_path = folder / f"{prefix}key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    os.chmod(key_path, 0o600)
    return cert_path, key_path


def serve_tls(
    handler: type[BaseHTTPRequestHandler],
    folder: Path,
    *,
    name: str,
    server_class: type[ThreadingHTTPServer] = ThreadingHTTPServer,
    poll_interval: float = 0.5,
    do_handshake_on_connect: bool = True,
) -> tuple[ThreadingHTTPServer, threading.Thread, Path]:
    """Start `handler` over HTTPS on 127.0.0.1 and a free port: (server, thread, certificate to trust)."""
    cert_path, key_path = make_self_signed_cert(folder, prefix=f"{name}-")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server = server_class(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=do_handshake_on_connect)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": poll_interval}, name=name, daemon=True)
    thread.start()
    return server, thread, cert_path


def stop_tls(server: ThreadingHTTPServer | None, thread: threading.Thread | None) -> None:
    if server is not None:
        server.shutdown()
        server.server_close()
    if thread is not None:
        thread.join(timeout=5)
