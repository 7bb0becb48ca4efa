"""Security: database purpose (demo mark), per-client lockout key, the example reference refused.

Revision ID: 0002_security
Revises: 0001_initial
Create Date: 2026-11-28

- ``kvo_meta``: key/value facts about the database; ``purpose = demo`` allows demo and
  benchmark data (kvo.db_purpose).
- ``failed_attempts.client_key`` (+ index): failed status checks are also counted per client.
- ``ck_trajectories_reference_not_example``: the example reference of the bot texts
  (KVO-2000-1234) can never be a real trajectory.

SQLite cannot add a CHECK constraint in place: the trajectories table is rebuilt (batch mode)
from the frozen copy below. env.py turns foreign keys off while migrating on SQLite, so dropping
the old table does not cascade into phase_events and convenant_signatures.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_security"
down_revision: str | Sequence[str] | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXAMPLE_REFERENCE = "KVO-2000-1234"  # frozen copy of kvo.references.EXAMPLE_REFERENCE
TRAJECTORY_KINDS = ("eerste_certificering", "hercertificering")


def _trajectories(*extra: sa.CheckConstraint) -> sa.Table:
    """The trajectories table as 0001_initial made it, plus ``extra`` constraints."""
    metadata = sa.MetaData()
    sa.Table("areas", metadata, sa.Column("id", sa.Integer(), primary_key=True))
    sa.Table("facilitators", metadata, sa.Column("id", sa.Integer(), primary_key=True))
    allowed_kinds = ", ".join(f"'{kind}'" for kind in TRAJECTORY_KINDS)
    table = sa.Table(
        "trajectories",
        metadata,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(13), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                *TRAJECTORY_KINDS,
                name="trajectory_kind",
                native_enum=False,
                create_constraint=False,
                length=32,
            ),
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
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name="pk_trajectories"),
        sa.UniqueConstraint("reference", name="uq_trajectories_reference"),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name="fk_trajectories_area_id_areas",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["facilitator_id"],
            ["facilitators.id"],
            name="fk_trajectories_facilitator_id_facilitators",
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(
            "reference LIKE 'KVO-____-____'", name="ck_trajectories_reference_format"
        ),
        sa.CheckConstraint(
            "current_phase BETWEEN 1 AND 5", name="ck_trajectories_current_phase_range"
        ),
        sa.CheckConstraint(
            "target_stars BETWEEN 1 AND 99", name="ck_trajectories_target_stars_range"
        ),
        sa.CheckConstraint(
            "survey_response_rate IS NULL OR survey_response_rate BETWEEN 0 AND 100",
            name="ck_trajectories_survey_response_rate_range",
        ),
        sa.CheckConstraint(
            "survey_required_rate IS NULL OR survey_required_rate BETWEEN 0 AND 100",
            name="ck_trajectories_survey_required_rate_range",
        ),
        sa.CheckConstraint(
            f"kind IN ({allowed_kinds})", name="ck_trajectories_trajectory_kind"
        ),
        *extra,
    )
    sa.Index("ix_trajectories_area_id", table.c.area_id)
    sa.Index("ix_trajectories_facilitator_id", table.c.facilitator_id)
    return table


def _not_example() -> sa.CheckConstraint:
    return sa.CheckConstraint(
        f"reference <> '{EXAMPLE_REFERENCE}'", name="ck_trajectories_reference_not_example"
    )


def upgrade() -> None:
    op.create_table(
        "kvo_meta",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_kvo_meta")),
    )

    op.add_column("failed_attempts", sa.Column("client_key", sa.String(64), nullable=True))
    op.create_index(
        op.f("ix_failed_attempts_client_key_attempted_at"),
        "failed_attempts",
        ["client_key", "attempted_at"],
    )

    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(
            "trajectories", copy_from=_trajectories(), recreate="always"
        ) as batch:
            batch.create_check_constraint(
                op.f("ck_trajectories_reference_not_example"),
                f"reference <> '{EXAMPLE_REFERENCE}'",
            )
    else:
        op.create_check_constraint(
            op.f("ck_trajectories_reference_not_example"),
            "trajectories",
            f"reference <> '{EXAMPLE_REFERENCE}'",
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(
            "trajectories", copy_from=_trajectories(_not_example()), recreate="always"
        ) as batch:
            batch.drop_constraint(op.f("ck_trajectories_reference_not_example"), type_="check")
    else:
        op.drop_constraint(
            op.f("ck_trajectories_reference_not_example"), "trajectories", type_="check"
        )

    op.drop_index(
        op.f("ix_failed_attempts_client_key_attempted_at"), table_name="failed_attempts"
    )
    with op.batch_alter_table("failed_attempts") as batch:
        batch.drop_column("client_key")

    op.drop_table("kvo_meta")
