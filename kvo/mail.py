"""The mail worker: renders queued notifications and sends them over SMTP, with retries.

``python -m kvo mail worker`` runs :func:`run_worker`; ``--once`` sends what is due
and stops. A message is claimed in a short transaction (``FOR UPDATE SKIP LOCKED``
on PostgreSQL, so several workers can run), sent outside any transaction, and its
outcome recorded: ``sent``; another attempt after an exponential backoff
(``next_attempt_at``); or ``failed`` after ``mail_max_attempts`` or a permanent
refusal, which flags the lead for staff. A worker that dies mid-send leaves the
claim to expire and the message is tried again (at-least-once delivery).

Logs name message ids, kinds and exception classes only, never addresses or content.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from typing import Any, Protocol

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from kvo import calendar_invite
from kvo.contact_details import format_phone
from kvo.db import session_scope
from kvo.dutch_dates import format_slot, format_slot_short
from kvo.lead_fields import AREA_KIND_LABELS, ROLE_LABELS
from kvo.models import Facilitator, Lead, LeadStatus, MailKind, MailStatus, OutboxMessage
from kvo.settings import REPO_ROOT, Settings, get_settings
from kvo.timeutil import ensure_utc, utc_now

logger = logging.getLogger(__name__)

TEMPLATE_DIR = REPO_ROOT / "templates" / "mail"
BATCH_SIZE = 20
INTAKE_MODES = {
    "op_locatie": "op locatie, in uw gebied",
    "telefonisch": "telefonisch",
    "video": "via een videogesprek",
}
_BOOKING_KINDS = {
    MailKind.VISITOR_BOOKING,
    MailKind.FACILITATOR_BOOKING,
    MailKind.VISITOR_MOVED,
    MailKind.FACILITATOR_MOVED,
    MailKind.VISITOR_REMINDER,
    MailKind.FACILITATOR_REMINDER,
}
_INVITE_KINDS = {
    MailKind.VISITOR_BOOKING: calendar_invite.REQUEST,
    MailKind.FACILITATOR_BOOKING: calendar_invite.REQUEST,
    MailKind.VISITOR_MOVED: calendar_invite.REQUEST,
    MailKind.FACILITATOR_MOVED: calendar_invite.REQUEST,
    MailKind.VISITOR_CANCELLED: calendar_invite.CANCEL,
    MailKind.FACILITATOR_CANCELLED: calendar_invite.CANCEL,
}


class MissingRecipient(Exception):
    """No address to send to (e.g. PVO_STAFF_EMAIL_ZWB not set): a configuration problem."""


class Sender(Protocol):
    """Sends one message; raises on failure. Used as a context manager per batch."""

    def __enter__(self) -> Sender: ...

    def __exit__(self, *exc: object) -> None: ...

    def send(self, message: EmailMessage) -> None: ...


class SmtpSender:
    """One SMTP connection per batch, opened lazily, with the settings' security."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpSender:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._smtp is not None:
            with suppress(smtplib.SMTPException, OSError):
                self._smtp.quit()
            self._smtp = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.smtp_security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                s.smtp_host,
                s.smtp_port,
                timeout=s.smtp_timeout_seconds,
                context=ssl.create_default_context(),
            )
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
            if s.smtp_security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
        if s.smtp_user:
            smtp.login(s.smtp_user, s.smtp_password.get_secret_value())
        return smtp

    def send(self, message: EmailMessage) -> None:
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            self._smtp.send_message(message)
        except smtplib.SMTPServerDisconnected:
            self._smtp = None
            raise


# --- rendering -----------------------------------------------------------------------


def _environment() -> Environment:
    # Plain-text mails: no HTML escaping, but every variable must exist (StrictUndefined).
    return Environment(  # noqa: S701 - text/plain templates, nothing is rendered as HTML
        loader=FileSystemLoader(TEMPLATE_DIR),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


_ENV = _environment()


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def render_template(kind: MailKind, context: dict[str, Any]) -> Rendered:
    """Subject and body of ``templates/mail/<kind>.txt.j2`` (subject in its own block)."""
    template = _ENV.get_template(f"{kind.value}.txt.j2")
    subject = "".join(template.blocks["subject"](template.new_context(context))).strip()
    body = template.render(context)
    return Rendered(" ".join(subject.split()), body.strip() + "\n")


def _lead_rows(lead: Lead) -> list[tuple[str, str]]:
    rows = [
        ("Naam", lead.name),
        ("E-mailadres", lead.email),
        ("Telefoonnummer", format_phone(lead.phone) or None),
        ("Organisatie", lead.organisation),
        ("Rol", ROLE_LABELS[lead.role] if lead.role else None),
        ("Gebied", lead.area_name),
        ("Gemeente", lead.municipality),
        ("Soort gebied", AREA_KIND_LABELS[lead.area_kind] if lead.area_kind else None),
        ("Korte omschrijving of vraag", lead.description),
    ]
    return [(label, value) for label, value in rows if value]


def _old_slot(message: OutboxMessage) -> tuple[datetime | None, datetime | None]:
    payload = message.payload or {}
    old_start, old_end = payload.get("old_start"), payload.get("old_end")
    if not isinstance(old_start, str) or not isinstance(old_end, str):
        return None, None
    return datetime.fromisoformat(old_start), datetime.fromisoformat(old_end)


def _facilitator_name(session: Session, lead: Lead, facilitator: Facilitator | None) -> str:
    if facilitator is not None:
        return facilitator.name
    assigned = session.get(Facilitator, lead.facilitator_id) if lead.facilitator_id else None
    return assigned.name if assigned else ""


@dataclass(frozen=True)
class Drop:
    """The message is no longer needed (lead erased, cancelled meanwhile, ...)."""

    reason: str


def _staff_recipients(lead: Lead, settings: Settings) -> list[str]:
    if lead.contact_area is not None:
        addresses = [settings.staff_email_for(lead.contact_area.code)]
    else:  # e.g. a callback without a municipality: both areas see it
        addresses = [settings.staff_email_zwb, settings.staff_email_ob]
    return list(dict.fromkeys(address for address in addresses if address))


def build_message(
    session: Session, message: OutboxMessage, now: datetime, settings: Settings
) -> EmailMessage | Drop:
    """Render one outbox row into a mail, from the lead as it is now."""
    lead = session.get(Lead, message.lead_id)
    if lead is None:
        return Drop("lead_gone")
    kind = message.kind
    recipient_kind = kind.recipient
    facilitator = (
        session.get(Facilitator, message.facilitator_id) if message.facilitator_id else None
    )
    if kind in _BOOKING_KINDS:
        # Invitations and reminders only for the intake as it stands now, and only to the
        # facilitator who has it now (a move may have handed it to someone else).
        if lead.status is not LeadStatus.GEPLAND or lead.booking is None:
            return Drop("no_longer_planned")
        if (
            recipient_kind == "facilitator"
            and lead.booking.facilitator_id != message.facilitator_id
        ):
            return Drop("other_facilitator")

    if recipient_kind == "visitor":
        if not lead.email:
            return Drop("no_visitor_address")
        recipients = [lead.email]
    elif recipient_kind == "facilitator":
        if facilitator is None:
            return Drop("facilitator_gone")
        recipients = [facilitator.email]
    else:
        recipients = _staff_recipients(lead, settings)
        if not recipients:
            raise MissingRecipient(lead.contact_area.code if lead.contact_area else "any")

    tz = settings.tzinfo
    old_start, old_end = _old_slot(message)
    start, end = lead.slot_start, lead.slot_end
    if kind is MailKind.FACILITATOR_CANCELLED and old_start is not None:
        start, end = old_start, old_end  # the slot this facilitator had
    context: dict[str, Any] = {
        "recipient": recipient_kind,
        "reference": lead.reference,
        "name": lead.name,
        "contact_area": lead.contact_area.value if lead.contact_area else "",
        "area_name": lead.area_name or "",
        "municipality": lead.municipality or "",
        "rows": _lead_rows(lead),
        "when": format_slot(start, end, tz) if start and end else "",
        "when_short": format_slot_short(start, tz) if start else "",
        "old_when": format_slot(old_start, old_end, tz) if old_start and old_end else "",
        "facilitator_name": _facilitator_name(session, lead, facilitator),
        "intake_mode": INTAKE_MODES.get(settings.intake_mode, ""),
        "intake_preparation": settings.intake_preparation,
        "callback_response_time": settings.callback_response_time,
        "by_visitor": bool((message.payload or {}).get("by_visitor")),
        "erased": lead.erased_at is not None,
        "consent_at": format_slot_short(lead.consent_at, tz),
        "retention_months": settings.lead_retention_months,
        "contact_url": settings.contact_url,
    }
    rendered = render_template(kind, context)
    mail = EmailMessage()
    mail["Subject"] = rendered.subject
    mail["From"] = settings.mail_from
    mail["To"] = ", ".join(recipients)
    mail["Message-ID"] = make_msgid(domain=calendar_invite.sender_domain(settings.mail_from))
    mail["Date"] = format_datetime(now.astimezone(tz))
    mail.set_content(rendered.body)
    method = _INVITE_KINDS.get(kind)
    if method is not None and start is not None and end is not None:
        # The visitor's copy names only the visitor (PVO organises, staff names stay out of
        # visitor texts); the facilitator's names both, so the facilitator can reach them.
        attendees = [lead.email] if lead.email else []
        if recipient_kind == "facilitator" and facilitator is not None:
            attendees.append(facilitator.email)
        ics = calendar_invite.build_invite(
            method=method,
            uid=calendar_invite.booking_uid(lead.reference, settings.mail_from),
            sequence=lead.ics_sequence,
            starts_at=start,
            ends_at=end,
            summary="Intake Keurmerk Veilig Ondernemen (PVO Brabant-Zeeland)",
            description=f"Intake over het KVO. Referentie {lead.reference}.",
            location=INTAKE_MODES.get(settings.intake_mode, ""),
            organizer=formataddr(("PVO Brabant-Zeeland", parseaddr(settings.mail_from)[1])),
            attendees=attendees,
            tz=tz,
            stamp=now,
        )
        mail.add_attachment(
            ics,
            maintype="text",
            subtype="calendar",
            filename="intake.ics",
            params={"method": method, "charset": "utf-8"},
        )
    return mail


# --- delivery ------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    dropped: int = 0

    def __add__(self, other: DeliveryReport) -> DeliveryReport:
        return DeliveryReport(
            self.sent + other.sent,
            self.retried + other.retried,
            self.failed + other.failed,
            self.dropped + other.dropped,
        )


def backoff(attempts: int, settings: Settings) -> timedelta:
    """Seconds before the next attempt: base x 2^(attempts-1), capped."""
    seconds = settings.mail_retry_base_seconds * (2 ** max(0, attempts - 1))
    return timedelta(seconds=min(seconds, settings.mail_retry_max_seconds))


def _lease(settings: Settings) -> timedelta:
    # Long enough for a slow SMTP conversation; a crashed worker's claim expires after it.
    return timedelta(seconds=settings.smtp_timeout_seconds * 3 + 60)


def _claim(engine: Engine, now: datetime, limit: int, settings: Settings) -> list[int]:
    with session_scope(engine) as session:
        ids = list(
            session.scalars(
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.status == MailStatus.PENDING,
                    OutboxMessage.next_attempt_at <= now,
                )
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if ids:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .values(
                    attempts=OutboxMessage.attempts + 1,
                    next_attempt_at=now + _lease(settings),
                )
            )
    return ids


def _permanent(error: BaseException) -> bool:
    if isinstance(error, MissingRecipient | smtplib.SMTPRecipientsRefused):
        return True
    code = getattr(error, "smtp_code", None)
    return isinstance(code, int) and 500 <= code < 600


def _record(
    engine: Engine,
    message_id: int,
    now: datetime,
    settings: Settings,
    *,
    error: BaseException | None = None,
    dropped: str | None = None,
) -> str:
    with session_scope(engine) as session:
        message = session.get(OutboxMessage, message_id)
        if message is None:
            return "dropped"
        if dropped is not None:
            message.status = MailStatus.CANCELLED
            message.last_error = dropped
            outcome = "dropped"
        elif error is None:
            message.status = MailStatus.SENT
            message.sent_at = now
            message.last_error = None
            outcome = "sent"
        else:
            message.last_error = type(error).__name__[:100]
            if _permanent(error) or message.attempts >= settings.mail_max_attempts:
                message.status = MailStatus.FAILED
                outcome = "failed"
            else:
                message.next_attempt_at = now + backoff(message.attempts, settings)
                outcome = "retried"
    logger.info(
        "mail.%s id=%s error=%s", outcome, message_id, type(error).__name__ if error else "-"
    )
    return outcome


def deliver_due(
    engine: Engine,
    now: datetime | None = None,
    *,
    settings: Settings | None = None,
    sender_factory: Callable[[Settings], Sender] = SmtpSender,
    limit: int = BATCH_SIZE,
) -> DeliveryReport:
    """Send one batch of due messages; returns what happened to each."""
    settings = settings or get_settings()
    now = ensure_utc(now)
    ids = _claim(engine, now, limit, settings)
    counts = {"sent": 0, "retried": 0, "failed": 0, "dropped": 0}
    if not ids:
        return DeliveryReport()
    with sender_factory(settings) as sender:
        connection_error: BaseException | None = None
        for message_id in ids:
            if connection_error is not None:
                # The server is unreachable: do not hammer it for the rest of the batch.
                counts[_record(engine, message_id, now, settings, error=connection_error)] += 1
                continue
            try:
                with session_scope(engine) as session:
                    message = session.get(OutboxMessage, message_id)
                    built = (
                        build_message(session, message, now, settings) if message else Drop("gone")
                    )
            except MissingRecipient as error:
                counts[_record(engine, message_id, now, settings, error=error)] += 1
                continue
            if isinstance(built, Drop):
                counts[_record(engine, message_id, now, settings, dropped=built.reason)] += 1
                continue
            try:
                sender.send(built)
            except (OSError, smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected) as error:
                connection_error = error
                counts[_record(engine, message_id, now, settings, error=error)] += 1
            except smtplib.SMTPException as error:
                counts[_record(engine, message_id, now, settings, error=error)] += 1
            else:
                counts[_record(engine, message_id, now, settings)] += 1
    return DeliveryReport(**counts)


def deliver_all_due(
    engine: Engine,
    now: datetime | None = None,
    *,
    settings: Settings | None = None,
    sender_factory: Callable[[Settings], Sender] = SmtpSender,
) -> DeliveryReport:
    """Batches until nothing is due at ``now`` (each message is tried at most once)."""
    total = DeliveryReport()
    while True:
        report = deliver_due(engine, now, settings=settings, sender_factory=sender_factory)
        total += report
        if report == DeliveryReport():
            return total


def run_worker(
    engine: Engine,
    *,
    settings: Settings | None = None,
    once: bool = False,
    stop: threading.Event | None = None,
    on_report: Callable[[DeliveryReport], None] | None = None,
) -> DeliveryReport:
    """Send due mail until stopped (or once). Errors of one round never end the loop."""
    settings = settings or get_settings()
    stop = stop or threading.Event()
    total = DeliveryReport()
    while True:
        try:
            report = deliver_all_due(engine, utc_now(), settings=settings)
        except Exception as error:  # the database may be briefly down; try again later
            logger.warning("mail.round_failed error=%s", type(error).__name__)
            report = DeliveryReport()
            if once:
                raise
        total += report
        if on_report is not None and report != DeliveryReport():
            on_report(report)
        if once or stop.wait(settings.mail_poll_seconds):
            return total


@dataclass(frozen=True)
class MailStatusRow:
    id: int
    reference: str
    kind: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime


@dataclass(frozen=True)
class MailOverview:
    counts: dict[str, int]  # status -> number of messages
    oldest_due: datetime | None  # the longest-waiting pending message
    failed: tuple[MailStatusRow, ...]


def mail_overview(session: Session, *, limit: int = 50) -> MailOverview:
    """For ``mail status`` and the staff API: no addresses, no content."""
    counts = {
        status.value: count
        for status, count in session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        )
    }
    oldest = session.scalar(
        select(func.min(OutboxMessage.next_attempt_at)).where(
            OutboxMessage.status == MailStatus.PENDING
        )
    )
    failed = session.execute(
        select(
            OutboxMessage.id,
            Lead.reference,
            OutboxMessage.kind,
            OutboxMessage.status,
            OutboxMessage.attempts,
            OutboxMessage.last_error,
            OutboxMessage.next_attempt_at,
        )
        .join(Lead, Lead.id == OutboxMessage.lead_id)
        .where(OutboxMessage.status == MailStatus.FAILED)
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    return MailOverview(
        counts={status.value: counts.get(status.value, 0) for status in MailStatus},
        oldest_due=oldest,
        failed=tuple(
            MailStatusRow(i, ref, k.value, s.value, a, err, nxt)
            for i, ref, k, s, a, err, nxt in failed
        ),
    )
