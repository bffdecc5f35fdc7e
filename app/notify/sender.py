"""Delivering the outbox over SMTP: claim due notices, send them, record the outcome, back off on failure.

Claiming uses `SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL, so several senders (processes or
threads) each take different rows and no notice is sent twice; on SQLite the claim's BEGIN IMMEDIATE
serialises senders instead. A claimed row is leased: if its sender dies before recording the
outcome, the row is claimed again once the lease ends (delivery is at least once, never lost).
"""

import logging
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from urllib.parse import unquote, urlsplit

from sqlalchemy import Engine, and_, or_, update
from sqlmodel import Session, col, select

from app.config import Settings
from app.models import Notice
from app.outbox.render import OPTIONAL_KINDS
from app.outbox.service import link, opted_out

log = logging.getLogger(__name__)

BATCH_SIZE = 50
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=6)
SMTP_TIMEOUT_S = 30.0
_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP  # readable in any mail source view, unlike base64
SECRET_REMOVED = "(removed from this copy after sending)"
ERR_EXPIRED = "Not sent: it was only useful before {at}."
ERR_OPTED_OUT = "Not sent: the user turned this kind of notice off."


@dataclass(frozen=True)
class SmtpTarget:
    """Where and how to hand mail over: smtp:// (STARTTLS when offered) or smtps:// (TLS from the start)."""

    host: str
    port: int
    implicit_tls: bool
    username: str | None
    password: str | None


def smtp_target(url: str) -> SmtpTarget:
    """Parse TRACKER_SMTP_URL; ValueError naming what is wrong."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError(f"TRACKER_SMTP_URL must start with smtp:// or smtps://, not {parts.scheme or url!r}")
    if not parts.hostname:
        raise ValueError("TRACKER_SMTP_URL names no host")
    implicit = parts.scheme == "smtps"
    return SmtpTarget(
        host=parts.hostname,
        port=parts.port or (465 if implicit else 587),
        implicit_tls=implicit,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def backoff(attempts: int) -> timedelta:
    """The wait before the next try after `attempts` failed ones: 1 min, 2, 4, ... at most 6 h."""
    wait: timedelta = BACKOFF_BASE * 2 ** max(attempts - 1, 0)
    return min(wait, BACKOFF_CAP)


class TransientError(Exception):
    """The server or the connection failed; the notice is tried again later."""


class PermanentError(Exception):
    """The server refused this message for good (5xx); the notice fails without more tries."""


class Mailer:
    """One SMTP connection, opened on first use and reused for every message of a round."""

    def __init__(self, target: SmtpTarget, *, timeout: float = SMTP_TIMEOUT_S) -> None:
        self.target = target
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        target = self.target
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if target.implicit_tls:
            smtp = smtplib.SMTP_SSL(target.host, target.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(target.host, target.port, timeout=self.timeout)
        try:
            self._greet(smtp, context)
        except BaseException:
            smtp.close()  # a refused login or handshake must not leave the socket open
            raise
        return smtp

    def _greet(self, smtp: smtplib.SMTP, context: ssl.SSLContext) -> None:
        target = self.target
        if not target.implicit_tls:
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
            elif target.password and target.host not in ("127.0.0.1", "::1", "localhost"):
                raise TransientError("The server offers no STARTTLS; the password is not sent in clear text.")
        if target.username:
            smtp.login(target.username, target.password or "")

    def send(self, message: Message) -> None:
        """Hand one message over; TransientError or PermanentError when it is not accepted."""
        try:
            if self._smtp is None:
                self._smtp = self._open()
            self._smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            detail = "; ".join(
                f"{rcpt}: {code} {msg.decode(errors='replace')}" for rcpt, (code, msg) in exc.recipients.items()
            )
            raise (PermanentError if all(c >= 500 for c in codes) else TransientError)(detail) from exc
        except smtplib.SMTPResponseException as exc:
            detail = f"{exc.smtp_code} {exc.smtp_error.decode(errors='replace') if isinstance(exc.smtp_error, bytes) else exc.smtp_error}"
            if exc.smtp_code >= 500 and not isinstance(exc, smtplib.SMTPAuthenticationError):
                raise PermanentError(detail) from exc
            self.close()
            raise TransientError(detail) from exc
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise TransientError(f"{type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        """End the connection (quietly: it may already be gone)."""
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None


def _header(value: str) -> str:
    return value if value.isascii() else Header(value, "utf-8").encode()


def _address(value: str) -> str:
    name, address = parseaddr(value)
    return formataddr((name, address), charset="utf-8") if name else address


def notice_message(notice: Notice, *, mail_from: str) -> Message:
    """The email of a notice: text and HTML alternatives, a stable Message-ID, and the notice id in a header.

    Built with the compat32 MIME classes: the newer EmailMessage API spends most of a send
    building header objects (7 ms a message here against 1 ms for the whole SMTP exchange).
    """
    message = MIMEMultipart("alternative")
    message["From"] = _address(mail_from)
    message["To"] = _address(notice.to_address)
    message["Subject"] = _header(notice.subject)
    message["Date"] = format_datetime(notice.created_at)
    domain = urlsplit(link("/")).hostname or "tracker"
    message["Message-ID"] = make_msgid(idstring=f"notice-{notice.id}", domain=domain)
    message["X-Tracker-Notice"] = str(notice.id)
    message["X-Tracker-Kind"] = notice.kind
    message["Auto-Submitted"] = "auto-generated"
    if notice.kind in OPTIONAL_KINDS:
        message["List-Unsubscribe"] = f"<{link('/ui/account/notices')}>"
    # MIMEText takes a Charset object at run time (it picks quoted-printable); the stubs only name str.
    message.attach(MIMEText(notice.body_text, "plain", _UTF8_QP))  # type: ignore[arg-type]
    message.attach(MIMEText(notice.body_html, "html", _UTF8_QP))  # type: ignore[arg-type]
    return message


_OUTCOME_COLUMNS = (
    "status",
    "attempts",
    "last_error",
    "next_attempt_at",
    "claimed_until",
    "sent_at",
    "body_text",
    "body_html",
    "secret",
)


def _write(session: Session, notices: list[Notice], **values: object) -> None:
    """One UPDATE for these rows (set-based: the ORM would write them one statement each)."""
    if notices:
        table = Notice.__table__  # type: ignore[attr-defined]
        session.connection().execute(update(table).where(table.c.id.in_([n.id for n in notices])).values(**values))


def _write_each(session: Session, notices: list[Notice]) -> None:
    table = Notice.__table__  # type: ignore[attr-defined]
    for notice in notices:
        session.connection().execute(
            update(table).where(table.c.id == notice.id).values(**{c: getattr(notice, c) for c in _OUTCOME_COLUMNS})
        )


def notices_claim(session: Session, *, now: datetime, limit: int = BATCH_SIZE) -> list[Notice]:
    """Lease up to `limit` due notices to this sender and commit; rows other senders hold are skipped.

    The rows come back detached: the sender changes them in memory and writes the outcome itself.
    """
    due = or_(
        and_(col(Notice.status) == "pending", col(Notice.next_attempt_at) <= now),
        and_(col(Notice.status) == "sending", col(Notice.claimed_until) < now),
    )
    rows = list(
        session.exec(select(Notice).where(due).order_by(col(Notice.id)).limit(limit).with_for_update(skip_locked=True))
    )
    session.expunge_all()
    skipped: list[Notice] = []
    for kind in {n.kind for n in rows if n.kind in OPTIONAL_KINDS}:
        # A user may have turned a kind off after its notice was written.
        out = opted_out(session, kind=kind, user_ids=[n.user_id for n in rows if n.kind == kind])
        for notice in rows:
            if notice.kind == kind and notice.user_id in out:
                notice.status, notice.last_error = "skipped", ERR_OPTED_OUT
                skipped.append(notice)
    for notice in rows:
        if notice.status != "skipped" and notice.expires_at is not None and notice.expires_at <= now:
            notice.status, notice.last_error = "skipped", ERR_EXPIRED.format(at=notice.expires_at.isoformat())
            skipped.append(notice)
    claimed = [n for n in rows if n.status != "skipped"]
    for notice in claimed:
        notice.status, notice.claimed_until, notice.attempts = "sending", now + LEASE, notice.attempts + 1
    _write(session, claimed, status="sending", claimed_until=now + LEASE, attempts=Notice.__table__.c.attempts + 1)  # type: ignore[attr-defined]
    _write_each(session, skipped)
    session.commit()
    return claimed


def _record(notice: Notice, *, error: Exception | None, now: datetime) -> None:
    notice.claimed_until = None
    if error is None:
        notice.status, notice.sent_at, notice.last_error = "sent", now, None
        if notice.secret:
            notice.body_text = notice.body_text.replace(notice.secret, SECRET_REMOVED)
            notice.body_html = notice.body_html.replace(notice.secret, SECRET_REMOVED)
            notice.secret = None
    elif isinstance(error, PermanentError) or notice.attempts >= MAX_ATTEMPTS:
        notice.status, notice.last_error = "failed", str(error)[:1000]
    else:
        notice.status, notice.last_error = "pending", str(error)[:1000]
        notice.next_attempt_at = now + backoff(notice.attempts)


def notices_record(session: Session, outcomes: list[tuple[Notice, Exception | None]], *, now: datetime) -> None:
    """Write what happened to each claimed notice: sent, back to pending with its next try, or failed."""
    plain_sent: list[Notice] = []
    others: list[Notice] = []
    for notice, error in outcomes:
        had_secret = notice.secret is not None
        _record(notice, error=error, now=now)
        (plain_sent if error is None and not had_secret else others).append(notice)
    _write(session, plain_sent, status="sent", sent_at=now, last_error=None, claimed_until=None)
    _write_each(session, others)
    session.commit()


@dataclass
class DeliveryStats:
    """What one delivery round did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    sent_ids: list[int] = field(default_factory=list)


def _send_all(
    mailer: Mailer, notices: list[Notice], *, mail_from: str
) -> tuple[list[tuple[Notice, Exception | None]], bool]:
    """Send each notice; once the server or connection is gone, the rest of the batch waits too."""
    outcomes: list[tuple[Notice, Exception | None]] = []
    down: TransientError | None = None
    for notice in notices:
        error: Exception | None = down
        if down is None:
            try:
                mailer.send(notice_message(notice, mail_from=mail_from))
            except PermanentError as exc:
                error = exc
            except TransientError as exc:
                error = down = exc
        outcomes.append((notice, error))
    return outcomes, down is not None


def notices_deliver(
    engine: Engine, *, settings: Settings, clock: Callable[[], datetime], batch_size: int = BATCH_SIZE
) -> DeliveryStats:
    """Send every due notice, batch by batch, until none is due; nothing happens without TRACKER_SMTP_URL."""
    stats = DeliveryStats()
    if not settings.smtp_url:
        return stats
    mailer = Mailer(smtp_target(settings.smtp_url))
    try:
        while True:
            with Session(engine, expire_on_commit=False) as session:
                claimed = notices_claim(session, now=clock(), limit=batch_size)
                if not claimed:
                    return stats
                outcomes, down = _send_all(mailer, claimed, mail_from=settings.mail_from)
                notices_record(session, outcomes, now=clock())
            for notice, error in outcomes:
                if error is None:
                    stats.sent += 1
                    stats.sent_ids.append(notice.id or 0)
                elif notice.status == "failed":
                    stats.failed += 1
                else:
                    stats.retrying += 1
            if down:
                return stats
    finally:
        mailer.close()
