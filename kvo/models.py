"""SQLAlchemy 2.0 models of the KVO domain.

Enums are stored as VARCHAR plus a CHECK constraint (not native database
enums) so that the same migrations run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
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
    UniqueConstraint,
    func,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates
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
    pvo_region: Mapped[str] = mapped_column(String(100))

    trajectories: Mapped[list[Trajectory]] = relationship(back_populates="area")


class Facilitator(TimestampMixin, Base):
    """A process facilitator (procesbegeleider); later migrations add availability and leads."""

    __tablename__ = "facilitators"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(320), unique=True)

    trajectories: Mapped[list[Trajectory]] = relationship(back_populates="facilitator")


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
