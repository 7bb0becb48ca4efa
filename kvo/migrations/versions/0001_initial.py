"""Initial KVO schema: areas, facilitators, trajectories, history, lockout.

Revision ID: 0001_initial
Revises:
Create Date: 2024-11-28

Written by hand to stay portable: enums are VARCHAR + CHECK, timestamps are
``TIMESTAMP WITH TIME ZONE`` (plain text on SQLite), and every constraint has
an explicit name matching ``kvo.models.NAMING_CONVENTION``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AREA_KINDS = ("winkelgebied", "bedrijventerrein", "buitengebied")
PROVINCES = ("Noord-Brabant", "Zeeland")
TRAJECTORY_KINDS = ("eerste_certificering", "hercertificering")
STAKEHOLDERS = ("gemeente", "ondernemers", "politie", "brandweer", "overig")


def _enum(name: str, *values: str) -> sa.Enum:
    # VARCHAR only; the CHECK comes from _enum_check so its name is explicit.
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=False, length=32)


def _enum_check(table: str, column: str, name: str, *values: str) -> sa.CheckConstraint:
    # A frozen copy of the values: later model changes need their own migration.
    allowed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=op.f(f"ck_{table}_{name}"))


def _timestamp(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "areas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column(
            "kind",
            _enum("area_kind", *AREA_KINDS),
            nullable=False,
        ),
        sa.Column("municipality", sa.String(100), nullable=False),
        sa.Column("province", _enum("province", *PROVINCES), nullable=False),
        sa.Column("pvo_region", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_areas")),
        sa.UniqueConstraint("name", "municipality", name=op.f("uq_areas_name_municipality")),
        _enum_check("areas", "kind", "area_kind", *AREA_KINDS),
        _enum_check("areas", "province", "province", *PROVINCES),
    )

    op.create_table(
        "facilitators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facilitators")),
        sa.UniqueConstraint("email", name=op.f("uq_facilitators_email")),
    )

    op.create_table(
        "trajectories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(13), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            _enum("trajectory_kind", *TRAJECTORY_KINDS),
            nullable=False,
        ),
        sa.Column("target_stars", sa.SmallInteger(), nullable=False),
        sa.Column("current_phase", sa.SmallInteger(), nullable=False),
        sa.Column("survey_response_rate", sa.Numeric(5, 2), nullable=True),
        sa.Column("survey_required_rate", sa.Numeric(5, 2), nullable=True),
        sa.Column("schouw_date", sa.Date(), nullable=True),
        sa.Column("audit_date", sa.Date(), nullable=True),
        sa.Column("certificate_issued_on", sa.Date(), nullable=True),
        sa.Column("certificate_expires_on", sa.Date(), nullable=True),
        sa.Column("facilitator_id", sa.Integer(), nullable=True),
        sa.Column("next_step", sa.String(500), nullable=True),
        sa.Column("next_step_owner", sa.String(200), nullable=True),
        sa.Column("access_code_hash", sa.String(255), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trajectories")),
        sa.UniqueConstraint("reference", name=op.f("uq_trajectories_reference")),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_trajectories_area_id_areas"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["facilitator_id"],
            ["facilitators.id"],
            name=op.f("fk_trajectories_facilitator_id_facilitators"),
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(
            "reference LIKE 'KVO-____-____'",
            name=op.f("ck_trajectories_reference_format"),
        ),
        sa.CheckConstraint(
            "current_phase BETWEEN 1 AND 5",
            name=op.f("ck_trajectories_current_phase_range"),
        ),
        sa.CheckConstraint(
            "target_stars BETWEEN 1 AND 99",
            name=op.f("ck_trajectories_target_stars_range"),
        ),
        sa.CheckConstraint(
            "survey_response_rate IS NULL OR survey_response_rate BETWEEN 0 AND 100",
            name=op.f("ck_trajectories_survey_response_rate_range"),
        ),
        sa.CheckConstraint(
            "survey_required_rate IS NULL OR survey_required_rate BETWEEN 0 AND 100",
            name=op.f("ck_trajectories_survey_required_rate_range"),
        ),
        _enum_check("trajectories", "kind", "trajectory_kind", *TRAJECTORY_KINDS),
    )
    op.create_index(op.f("ix_trajectories_area_id"), "trajectories", ["area_id"])
    op.create_index(op.f("ix_trajectories_facilitator_id"), "trajectories", ["facilitator_id"])

    op.create_table(
        "phase_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trajectory_id", sa.Integer(), nullable=False),
        sa.Column("phase", sa.SmallInteger(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phase_events")),
        sa.UniqueConstraint(
            "trajectory_id", "phase", name=op.f("uq_phase_events_trajectory_id_phase")
        ),
        sa.ForeignKeyConstraint(
            ["trajectory_id"],
            ["trajectories.id"],
            name=op.f("fk_phase_events_trajectory_id_trajectories"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint("phase BETWEEN 1 AND 5", name=op.f("ck_phase_events_phase_range")),
        sa.CheckConstraint(
            "completed_on IS NULL OR completed_on >= started_on",
            name=op.f("ck_phase_events_completed_after_start"),
        ),
    )

    op.create_table(
        "convenant_signatures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trajectory_id", sa.Integer(), nullable=False),
        sa.Column(
            "stakeholder",
            _enum("stakeholder", *STAKEHOLDERS),
            nullable=False,
        ),
        sa.Column("party_name", sa.String(200), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_convenant_signatures")),
        sa.UniqueConstraint(
            "trajectory_id",
            "party_name",
            name=op.f("uq_convenant_signatures_trajectory_id_party_name"),
        ),
        sa.ForeignKeyConstraint(
            ["trajectory_id"],
            ["trajectories.id"],
            name=op.f("fk_convenant_signatures_trajectory_id_trajectories"),
            ondelete="CASCADE",
        ),
        _enum_check("convenant_signatures", "stakeholder", "stakeholder", *STAKEHOLDERS),
    )

    op.create_table(
        "failed_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference_key", sa.String(13), nullable=False),
        sa.Column("conversation_key", sa.String(64), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_failed_attempts")),
    )
    op.create_index(
        op.f("ix_failed_attempts_reference_key_attempted_at"),
        "failed_attempts",
        ["reference_key", "attempted_at"],
    )
    op.create_index(
        op.f("ix_failed_attempts_conversation_key_attempted_at"),
        "failed_attempts",
        ["conversation_key", "attempted_at"],
    )
    op.create_index(op.f("ix_failed_attempts_attempted_at"), "failed_attempts", ["attempted_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_failed_attempts_attempted_at"), table_name="failed_attempts")
    op.drop_index(
        op.f("ix_failed_attempts_conversation_key_attempted_at"),
        table_name="failed_attempts",
    )
    op.drop_index(
        op.f("ix_failed_attempts_reference_key_attempted_at"),
        table_name="failed_attempts",
    )
    op.drop_table("failed_attempts")
    op.drop_table("convenant_signatures")
    op.drop_table("phase_events")
    op.drop_index(op.f("ix_trajectories_facilitator_id"), table_name="trajectories")
    op.drop_index(op.f("ix_trajectories_area_id"), table_name="trajectories")
    op.drop_table("trajectories")
    op.drop_table("facilitators")
    op.drop_table("areas")
