"""STARTTLS (smtp://) and TLS from the start (smtps://), each with a login, against aiosmtpd with a test CA."""

import ipaddress
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlmodel import Session, col, select

from app.config import get_settings
from app.models import Notice
from app.outbox.events import notice_password_changed
from tests.conftest import FakeClock
from tests.notify.helpers import cast, deliver
from tests.smtp import Recorder, free_port


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"tracker", b"s3cret")
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def tls_servers(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Two servers that demand a login over TLS: one with STARTTLS required, one with TLS from the start."""
    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the sender trusts the test certificate, and only it
    monkeypatch.setenv("TRACKER_PUBLIC_URL", "https://tracker.example.edu")
    starttls, implicit = Recorder(), Recorder()
    ports = {"starttls": free_port(), "implicit": free_port()}
    auth = {"auth_required": True, "authenticator": _authenticator}
    controllers = [
        Controller(
            starttls, hostname="127.0.0.1", port=ports["starttls"], tls_context=context, require_starttls=True, **auth
        ),
        # aiosmtpd does not count a socket that was TLS from the start as TLS for AUTH; it is.
        Controller(
            implicit, hostname="127.0.0.1", port=ports["implicit"], ssl_context=context, auth_require_tls=False, **auth
        ),
    ]
    for controller in controllers:
        controller.start()
    try:
        yield {"ports": ports, "starttls": starttls, "implicit": implicit, "monkeypatch": monkeypatch}
    finally:
        for controller in controllers:
            controller.stop()
        get_settings.cache_clear()


def _use(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("TRACKER_SMTP_URL", url)
    get_settings.cache_clear()


# aiosmtpd warns (in its thread, per connection) about AUTH without required STARTTLS; the smtps server is TLS.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
@pytest.mark.parametrize("scheme", ["smtp", "smtps"])
def test_tls_with_a_login_delivers_and_a_wrong_password_retries(
    session: Session,
    clock: FakeClock,
    tls_servers: dict[str, Any],
    scheme: str,
) -> None:
    c = cast(session)
    notice_password_changed(session, user=c.students[0], now=clock())
    session.commit()
    port = tls_servers["ports"]["starttls" if scheme == "smtp" else "implicit"]
    recorder: Recorder = tls_servers["starttls" if scheme == "smtp" else "implicit"]
    _use(tls_servers["monkeypatch"], f"{scheme}://tracker:wrong@127.0.0.1:{port}")
    assert deliver(clock()).retrying == 1
    error = session.exec(select(Notice.last_error)).one()
    session.rollback()
    assert error is not None and error.startswith("535 ")
    _use(tls_servers["monkeypatch"], f"{scheme}://tracker:s3cret@127.0.0.1:{port}")
    assert deliver(clock.advance(minutes=1)).sent == 1
    assert [(m.rcpt_tos, m.subject) for m in recorder.messages] == [
        (["ann@dl2026.example.edu"], "Your password was changed")
    ]
    assert session.exec(select(Notice.status, Notice.attempts).order_by(col(Notice.id))).all() == [("sent", 2)]
