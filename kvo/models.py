"""SQLAlchemy 2.0 models of the KVO domain.

Enums are stored as VARCHAR plus a CHECK constraint (not native database
enums) so that the same migrations run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Connection,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Time,
    UniqueConstraint,
    event,
    func,
    true,
    update,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Mapper,
    Session,
    mapped_column,
    relationship,
    validates,
)
from sqlalchemy.types import TypeDecorator

from kvo.errors import ReservedReference
from kvo.references import EXAMPLE_REFERENCE
from kvo.timeutil import UTC, utc_now

# Deterministic constraint names keep migrations and autogenerate diffs stable.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

REFERENCE_LENGTH = len("KVO-2024-0001")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps that are always aware UTC in Python, whatever the backend stores."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime given for a UTC timestamp column")
        value = value.astimezone(UTC)
        # SQLite has no time zone type: store plain UTC text so comparisons stay lexical.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class AreaKind(enum.StrEnum):
    WINKELGEBIED = "winkelgebied"
    BEDRIJVENTERREIN = "bedrijventerrein"
    BUITENGEBIED = "buitengebied"


class Province(enum.StrEnum):
    NOORD_BRABANT = "Noord-Brabant"
    ZEELAND = "Zeeland"


class ContactArea(enum.StrEnum):
    """PVO Brabant-Zeeland's two contact areas; intakes are routed by them.

    Which municipality belongs to which area is data: ``kvo/data/contact_areas.yml``.
    """

    ZEELAND_WEST_BRABANT = "Zeeland en West-Brabant"
    OOST_BRABANT = "Oost-Brabant"

    @property
    def code(self) -> str:
        """Short code used in setting names (``PVO_STAFF_EMAIL_ZWB``) and file names."""
        return "zwb" if self is ContactArea.ZEELAND_WEST_BRABANT else "ob"


class TrajectoryKind(enum.StrEnum):
    FIRST_CERTIFICATION = "eerste_certificering"
    RECERTIFICATION = "hercertificering"


class Stakeholder(enum.StrEnum):
    GEMEENTE = "gemeente"
    ONDERNEMERS = "ondernemers"
    POLITIE = "politie"
    BRANDWEER = "brandweer"
    OVERIG = "overig"


def _enum_column_type(enum_cls: type[enum.Enum], name: str) -> SAEnum:
    return SAEnum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utc_now, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utc_now, onupdate=utc_now, server_default=func.now()
    )


class Area(Base):
    __tablename__ = "areas"
    __table_args__ = (UniqueConstraint("name", "municipality"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[AreaKind] = mapped_column(_enum_column_type(AreaKind, "area_kind"))
    municipality: Mapped[str] = mapped_column(String(100))
    province: Mapped[Province] = mapped_column(_enum_column_type(Province, "province"))
    contact_area: Mapped[ContactArea] = mapped_column(
        _enum_column_type(ContactArea, "contact_area")
    )

    trajectories: Mapped[list[Trajectory]] = relationship(back_populates="area")


class Facilitator(TimestampMixin, Base):
    """A process facilitator (procesbegeleider) of one contact area.

    Only active facilitators offer intake slots (see ``AvailabilityRule``).
    """

    __tablename__ = "facilitators"
    __table_args__ = (Index("ix_facilitators_contact_area_active", "contact_area", "active"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    contact_area: Mapped[ContactArea] = mapped_column(
        _enum_column_type(ContactArea, "contact_area")
    )
    email: Mapped[str] = mapped_column(String(320), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Raised whenever the weekly rules change (see the listeners below): bookings made under
    # the current rules sit exactly on a current slot, which lets the free-slot search count
    # instead of load them (kvo/availability.py).
    rules_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    trajectories: Mapped[list[Trajectory]] = relationship(back_populates="facilitator")
    availability_rules: Mapped[list[AvailabilityRule]] = relationship(
        back_populates="facilitator",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="[AvailabilityRule.weekday, AvailabilityRule.start_time]",
    )


class Trajectory(TimestampMixin, Base):
    __tablename__ = "trajectories"
    __table_args__ = (
        CheckConstraint("reference LIKE 'KVO-____-____'", name="reference_format"),
        # The example reference of the bot texts must never lead to a real trajectory.
        CheckConstraint(f"reference <> '{EXAMPLE_REFERENCE}'", name="reference_not_example"),
        CheckConstraint("current_phase BETWEEN 1 AND 5", name="current_phase_range"),
        CheckConstraint("target_stars BETWEEN 1 AND 99", name="target_stars_range"),
        CheckConstraint(
            "survey_response_rate IS NULL OR survey_response_rate BETWEEN 0 AND 100",
            name="survey_response_rate_range",
        ),
        CheckConstraint(
            "survey_required_rate IS NULL OR survey_required_rate BETWEEN 0 AND 100",
            name="survey_required_rate_range",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(REFERENCE_LENGTH), unique=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[TrajectoryKind] = mapped_column(
        _enum_column_type(TrajectoryKind, "trajectory_kind")
    )
    target_stars: Mapped[int] = mapped_column(SmallInteger)
    current_phase: Mapped[int] = mapped_column(SmallInteger)
    survey_response_rate: Mapped[float | None] = mapped_column(Numeric(5, 2, asdecimal=False))
    survey_required_rate: Mapped[float | None] = mapped_column(Numeric(5, 2, asdecimal=False))
    schouw_date: Mapped[date | None] = mapped_column(Date)
    audit_date: Mapped[date | None] = mapped_column(Date)
    certificate_issued_on: Mapped[date | None] = mapped_column(Date)
    certificate_expires_on: Mapped[date | None] = mapped_column(Date)
    facilitator_id: Mapped[int | None] = mapped_column(
        ForeignKey("facilitators.id", ondelete="SET NULL"), index=True
    )
    next_step: Mapped[str | None] = mapped_column(String(500))
    next_step_owner: Mapped[str | None] = mapped_column(String(200))
    access_code_hash: Mapped[str] = mapped_column(String(255))

    area: Mapped[Area] = relationship(back_populates="trajectories")
    facilitator: Mapped[Facilitator | None] = relationship(back_populates="trajectories")
    phase_events: Mapped[list[PhaseEvent]] = relationship(
        back_populates="trajectory",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="PhaseEvent.phase",
    )
    convenant_signatures: Mapped[list[ConvenantSignature]] = relationship(
        back_populates="trajectory",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ConvenantSignature.id",
    )

    @validates("reference")
    def _not_the_example(self, _key: str, reference: str) -> str:
        # Fails at assignment, before any SQL: the CHECK constraint is the last line of defence.
        if reference == EXAMPLE_REFERENCE:
            raise ReservedReference(reference)
        return reference


class PhaseEvent(Base):
    """When a trajectory entered and finished a phase: the dated history."""

    __tablename__ = "phase_events"
    __table_args__ = (
        UniqueConstraint("trajectory_id", "phase"),
        CheckConstraint("phase BETWEEN 1 AND 5", name="phase_range"),
        CheckConstraint(
            "completed_on IS NULL OR completed_on >= started_on",
            name="completed_after_start",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trajectory_id: Mapped[int] = mapped_column(ForeignKey("trajectories.id", ondelete="CASCADE"))
    phase: Mapped[int] = mapped_column(SmallInteger)
    started_on: Mapped[date] = mapped_column(Date)
    completed_on: Mapped[date | None] = mapped_column(Date)

    trajectory: Mapped[Trajectory] = relationship(back_populates="phase_events")


class ConvenantSignature(Base):
    __tablename__ = "convenant_signatures"
    __table_args__ = (UniqueConstraint("trajectory_id", "party_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trajectory_id: Mapped[int] = mapped_column(ForeignKey("trajectories.id", ondelete="CASCADE"))
    stakeholder: Mapped[Stakeholder] = mapped_column(_enum_column_type(Stakeholder, "stakeholder"))
    party_name: Mapped[str] = mapped_column(String(200))
    signed_on: Mapped[date | None] = mapped_column(Date)

    trajectory: Mapped[Trajectory] = relationship(back_populates="convenant_signatures")


class FailedAttempt(Base):
    """A status check attempt, kept only as long as the lockout window needs it.

    Written (reserved) before the access code is verified and deleted again when the code was
    right, so what remains are the failed checks (see kvo.lockout).
    ``conversation_key`` is a SHA-256 of the conversation id, never the id itself;
    ``client_key`` is the channel's keyed hash of the client address (None when unknown).
    """

    __tablename__ = "failed_attempts"
    __table_args__ = (
        Index(
            "ix_failed_attempts_reference_key_attempted_at",
            "reference_key",
            "attempted_at",
        ),
        Index(
            "ix_failed_attempts_conversation_key_attempted_at",
            "conversation_key",
            "attempted_at",
        ),
        Index("ix_failed_attempts_attempted_at", "attempted_at"),
        Index(
            "ix_failed_attempts_client_key_attempted_at",
            "client_key",
            "attempted_at",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference_key: Mapped[str] = mapped_column(String(REFERENCE_LENGTH))
    conversation_key: Mapped[str] = mapped_column(String(64))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    client_key: Mapped[str | None] = mapped_column(String(64))


# --- security (migration 0002_security) ----------------------------------------------------


class KvoMeta(Base):
    """Facts about the database itself, e.g. ``purpose = demo`` (see kvo.db_purpose)."""

    __tablename__ = "kvo_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


# --- intake: availability, leads, bookings, drafts, outbox (migration 0003_intake) ----------


class LeadKind(enum.StrEnum):
    INTAKE = "intake"  # a booked intake with a slot
    CALLBACK = "terugbelverzoek"  # a callback request, no slot


class LeadStatus(enum.StrEnum):
    """The one lead life cycle; allowed transitions live in ``kvo/lead_status.py``."""

    NIEUW = "nieuw"
    IN_BEHANDELING = "in_behandeling"
    GEPLAND = "gepland"
    AFGEROND = "afgerond"
    AFGEWEZEN = "afgewezen"
    GEANNULEERD = "geannuleerd"


class LeadRole(enum.StrEnum):
    """The visitor's role in the area, as the chat offers it (buttons)."""

    ONDERNEMER = "ondernemer"
    ONDERNEMERSVERENIGING = "ondernemersvereniging"
    GEMEENTE = "gemeente"
    POLITIE = "politie"
    BRANDWEER = "brandweer"
    PARKMANAGEMENT = "parkmanagement"
    ANDERS = "anders"


class MailKind(enum.StrEnum):
    """One notification; the template is ``templates/mail/<value>.txt.j2``."""

    STAFF_NEW_BOOKING = "staff_new_booking"
    STAFF_NEW_CALLBACK = "staff_new_callback"
    STAFF_CANCELLED = "staff_cancelled"
    STAFF_MOVED = "staff_moved"
    VISITOR_BOOKING = "visitor_booking"
    VISITOR_CALLBACK = "visitor_callback"
    VISITOR_REMINDER = "visitor_reminder"
    VISITOR_CANCELLED = "visitor_cancelled"
    VISITOR_MOVED = "visitor_moved"
    FACILITATOR_BOOKING = "facilitator_booking"
    FACILITATOR_REMINDER = "facilitator_reminder"
    FACILITATOR_CANCELLED = "facilitator_cancelled"
    FACILITATOR_MOVED = "facilitator_moved"

    @property
    def recipient(self) -> str:
        """staff | visitor | facilitator"""
        return self.value.split("_", 1)[0]


class MailStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its next attempt (or its not-before time)
    SENT = "sent"
    FAILED = "failed"  # gave up after the maximum attempts, or no recipient: staff must look
    CANCELLED = "cancelled"  # no longer relevant (e.g. a reminder of a cancelled intake)


class AvailabilityRule(Base):
    """One weekly block of bookable slots: e.g. Tuesday 09:00-12:00 in 60-minute slots.

    Times are wall-clock times in the settings' time zone (Europe/Amsterdam), so a
    09:00 slot stays 09:00 across daylight saving changes.
    """

    __tablename__ = "availability_rules"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("end_time > start_time", name="end_after_start"),
        CheckConstraint("slot_minutes BETWEEN 15 AND 480", name="slot_minutes_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    facilitator_id: Mapped[int] = mapped_column(
        ForeignKey("facilitators.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int] = mapped_column(SmallInteger)  # Monday = 0, as in Python
    start_time: Mapped[time] = mapped_column(Time())
    end_time: Mapped[time] = mapped_column(Time())
    slot_minutes: Mapped[int] = mapped_column(SmallInteger, default=60, server_default="60")

    facilitator: Mapped[Facilitator] = relationship(back_populates="availability_rules")


class BlockedPeriod(Base):
    """A period in which a facilitator takes no intakes (leave, training, ...)."""

    __tablename__ = "blocked_periods"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_blocked_periods_facilitator_id_starts_at", "facilitator_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    facilitator_id: Mapped[int] = mapped_column(ForeignKey("facilitators.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(String(200))


class Lead(TimestampMixin, Base):
    """An intake booking or a callback request: what PVO staff follow up.

    Personal fields (name, email, phone, organisation, description, conversation
    id, client key) are nulled by erasure; the anonymous rest stays for statistics.
    ``conversation_id`` is kept as given so that erasing a lead can also purge the
    conversation from Rasa's tracker store; ``conversation_key`` is its SHA-256.
    """

    __tablename__ = "leads"
    __table_args__ = (
        # LIKE ignores case on SQLite; the substr comparison does not.
        CheckConstraint(
            "reference LIKE 'INT-______' AND substr(reference, 1, 4) = 'INT-'",
            name="reference_format",
        ),
        CheckConstraint(
            "(slot_start IS NULL) = (slot_end IS NULL)", name="slot_start_and_end_together"
        ),
        Index("ix_leads_created_at", "created_at"),
        Index("ix_leads_status_created_at", "status", "created_at"),
        Index("ix_leads_contact_area_created_at", "contact_area", "created_at"),
        Index("ix_leads_kind_created_at", "kind", "created_at"),
        Index("ix_leads_client_key_created_at", "client_key", "created_at"),
        Index("ix_leads_email_created_at", "email", "created_at"),
        Index("ix_leads_phone_created_at", "phone", "created_at"),
        Index("ix_leads_conversation_key", "conversation_key"),
        Index("ix_leads_facilitator_id", "facilitator_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(10), unique=True)
    kind: Mapped[LeadKind] = mapped_column(_enum_column_type(LeadKind, "lead_kind"))
    status: Mapped[LeadStatus] = mapped_column(_enum_column_type(LeadStatus, "lead_status"))
    contact_area: Mapped[ContactArea | None] = mapped_column(
        _enum_column_type(ContactArea, "contact_area")
    )
    municipality: Mapped[str | None] = mapped_column(String(100))
    area_name: Mapped[str | None] = mapped_column(String(200))
    area_kind: Mapped[AreaKind | None] = mapped_column(_enum_column_type(AreaKind, "area_kind"))
    role: Mapped[LeadRole | None] = mapped_column(_enum_column_type(LeadRole, "lead_role"))
    # Personal data (erasable).
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    organisation: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(1000))
    conversation_id: Mapped[str | None] = mapped_column(String(255))
    conversation_key: Mapped[str | None] = mapped_column(String(64))
    client_key: Mapped[str | None] = mapped_column(String(64))
    # Process data.
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    facilitator_id: Mapped[int | None] = mapped_column(
        ForeignKey("facilitators.id", ondelete="SET NULL")
    )
    slot_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    slot_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # iCalendar SEQUENCE: raised on every move and on cancellation.
    ics_sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    facilitator: Mapped[Facilitator | None] = relationship()
    booking: Mapped[Booking | None] = relationship(
        back_populates="lead", cascade="all, delete-orphan", passive_deletes=True
    )
    events: Mapped[list[LeadEvent]] = relationship(
        back_populates="lead",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="LeadEvent.id",
    )


class Booking(Base):
    """The claim of one facilitator slot by one active intake.

    The unique constraint on (facilitator, start) is what makes double booking
    impossible, whatever the code does. Cancelling deletes the row, which frees
    the slot; the lead keeps ``slot_start``/``slot_end`` as history.
    """

    __tablename__ = "bookings"
    __table_args__ = (
        UniqueConstraint("facilitator_id", "starts_at"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), unique=True)
    facilitator_id: Mapped[int] = mapped_column(ForeignKey("facilitators.id", ondelete="RESTRICT"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The facilitator's rules_version when the slot was claimed.
    rules_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    lead: Mapped[Lead] = relationship(back_populates="booking")


class LeadEvent(Base):
    """The dated history of a lead: created, status changes, cancel, move, erasure."""

    __tablename__ = "lead_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    event: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[LeadStatus | None] = mapped_column(
        _enum_column_type(LeadStatus, "from_status")
    )
    to_status: Mapped[LeadStatus | None] = mapped_column(_enum_column_type(LeadStatus, "to_status"))
    actor: Mapped[str | None] = mapped_column(String(100))

    lead: Mapped[Lead] = relationship(back_populates="events")


class IntakeDraft(Base):
    """Answers of an intake conversation in progress, kept server-side between turns.

    The tracker store redacts sensitive slots, so the chat keeps them here, keyed
    by the SHA-256 of the conversation id. Deleted on stop, no consent, booking
    and expiry.
    """

    __tablename__ = "intake_drafts"

    conversation_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    fields: Mapped[dict[str, str | None]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class OutboxMessage(Base):
    """A notification to send, written in the transaction that made the lead change.

    Holds no personal data: the mail is rendered from the lead when it is sent
    (``payload`` keeps only ids and times, e.g. the old slot of a move).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_outbox_lead_id", "lead_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    kind: Mapped[MailKind] = mapped_column(_enum_column_type(MailKind, "mail_kind"))
    facilitator_id: Mapped[int | None] = mapped_column(
        ForeignKey("facilitators.id", ondelete="SET NULL")
    )
    payload: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    status: Mapped[MailStatus] = mapped_column(_enum_column_type(MailStatus, "mail_status"))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When the next attempt may start (for a reminder: its not-before time).
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(100))  # exception class only
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


def bump_rules_version(connection: Connection | Session, facilitator_id: int) -> None:
    """Mark a facilitator's weekly rules as changed (bulk edits call this themselves)."""
    connection.execute(
        update(Facilitator)
        .where(Facilitator.id == facilitator_id)
        .values(rules_version=Facilitator.rules_version + 1)
        # Also from inside a flush (the listeners): no ORM session synchronisation.
        .execution_options(synchronize_session=False)
    )


@event.listens_for(AvailabilityRule, "after_insert")
@event.listens_for(AvailabilityRule, "after_update")
@event.listens_for(AvailabilityRule, "after_delete")
def _rules_changed(
    _mapper: Mapper[AvailabilityRule], connection: Connection, rule: AvailabilityRule
) -> None:
    bump_rules_version(connection, rule.facilitator_id)


# --- staff: accounts, audit log, lead notes, phase changes (migration 0004_staff) ----------


class UserRole(enum.StrEnum):
    """admin: accounts, erasure, export, audit log; staff: everything else."""

    ADMIN = "admin"
    STAFF = "staff"


class User(TimestampMixin, Base):
    """A PVO staff account for the staff API and dashboard (argon2 password hash)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[UserRole] = mapped_column(_enum_column_type(UserRole, "user_role"))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Raised on disable and password reset: tokens and sessions issued before stop working.
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class AuditEntry(Base):
    """Who viewed, exported or erased personal data, and when. Subjects are ids only."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_occurred_at", "occurred_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(100))


class LeadNote(Base):
    """A staff note on a lead; erased with the lead's personal data."""

    __tablename__ = "lead_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    author: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(String(2000))


class PhaseChange(Base):
    """A staff change of a trajectory's phase: from, to, the date it took effect, by whom."""

    __tablename__ = "phase_changes"
    __table_args__ = (
        CheckConstraint("to_phase BETWEEN 1 AND 5", name="to_phase_range"),
        CheckConstraint("from_phase BETWEEN 1 AND 5", name="from_phase_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trajectory_id: Mapped[int] = mapped_column(
        ForeignKey("trajectories.id", ondelete="CASCADE"), index=True
    )
    from_phase: Mapped[int] = mapped_column(SmallInteger)
    to_phase: Mapped[int] = mapped_column(SmallInteger)
    effective_on: Mapped[date] = mapped_column(Date)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    author: Mapped[str] = mapped_column(String(64))
