"""Staff: accounts, the audit log of personal-data access, lead notes, phase changes.

Revision ID: 0004_staff
Revises: 0003_intake
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_staff"
down_revision: str | Sequence[str] | None = "0003_intake"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

USER_ROLES = ("admin", "staff")


def _utc(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def _timestamp(name: str) -> sa.Column:
    return sa.Column(
        name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column(
            "role",
            sa.Enum(*USER_ROLES, name="user_role", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("token_version", sa.Integer(), server_default="0", nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
        sa.CheckConstraint("role IN ('admin', 'staff')", name=op.f("ck_users_user_role")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        _utc("occurred_at"),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_occurred_at"), "audit_log", ["occurred_at"])
    op.create_table(
        "lead_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        _utc("created_at"),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("text", sa.String(2000), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_notes")),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_lead_notes_lead_id_leads"), ondelete="CASCADE"
        ),
    )
    op.create_index(op.f("ix_lead_notes_lead_id"), "lead_notes", ["lead_id"])
    op.create_table(
        "phase_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trajectory_id", sa.Integer(), nullable=False),
        sa.Column("from_phase", sa.SmallInteger(), nullable=False),
        sa.Column("to_phase", sa.SmallInteger(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        _utc("changed_at"),
        sa.Column("author", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phase_changes")),
        sa.ForeignKeyConstraint(
            ["trajectory_id"],
            ["trajectories.id"],
            name=op.f("fk_phase_changes_trajectory_id_trajectories"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "from_phase BETWEEN 1 AND 5", name=op.f("ck_phase_changes_from_phase_range")
        ),
        sa.CheckConstraint("to_phase BETWEEN 1 AND 5", name=op.f("ck_phase_changes_to_phase_range")),
    )
    op.create_index(op.f("ix_phase_changes_trajectory_id"), "phase_changes", ["trajectory_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_phase_changes_trajectory_id"), table_name="phase_changes")
    op.drop_table("phase_changes")
    op.drop_index(op.f("ix_lead_notes_lead_id"), table_name="lead_notes")
    op.drop_table("lead_notes")
    op.drop_index(op.f("ix_audit_log_occurred_at"), table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("users")
