"""Intake: contact areas, availability, leads, bookings, drafts, outbox.

Replaces the five informal regions (areas.pvo_region, facilitators.region) by
PVO's two contact areas. Data migration: West-Brabant, Midden-Brabant (Hart van
Brabant, police unit Zeeland-West-Brabant) and Zeeland become "Zeeland en
West-Brabant"; Noordoost-Brabant and Zuidoost-Brabant become "Oost-Brabant". An
area with any other region value is placed by its province and municipality
(a frozen copy of the Oost-Brabant list in kvo/data/contact_areas.yml at the
time of writing); a facilitator with another value gets "Zeeland en West-Brabant"
and should be checked by staff.

Downgrade restores a region per row from its contact area (Zeeland for areas in
Zeeland, West-Brabant or Zuidoost-Brabant otherwise): the five-way detail is lost.

Revision ID: 0003_intake
Revises: 0002_security
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_intake"
down_revision: str | Sequence[str] | None = "0002_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ZWB, OB = "Zeeland en West-Brabant", "Oost-Brabant"
CONTACT_AREAS = (ZWB, OB)
REGION_TO_CONTACT_AREA = {
    "West-Brabant": ZWB,
    "Midden-Brabant": ZWB,
    "Zeeland": ZWB,
    "Noordoost-Brabant": OB,
    "Zuidoost-Brabant": OB,
}
# Frozen copy: later edits of the data file must not change what this migration did.
OOST_BRABANT_MUNICIPALITIES = (
    "Asten", "Bergeijk", "Bernheze", "Best", "Bladel", "Boekel", "Boxtel", "Cranendonck",
    "Deurne", "Eersel", "Eindhoven", "Geldrop-Mierlo", "Gemert-Bakel", "Heeze-Leende",
    "Helmond", "'s-Hertogenbosch", "Laarbeek", "Land van Cuijk", "Maashorst", "Meierijstad",
    "Nuenen, Gerwen en Nederwetten", "Oirschot", "Oss", "Reusel-De Mierden",
    "Sint-Michielsgestel", "Someren", "Son en Breugel", "Valkenswaard", "Veldhoven", "Vught",
    "Waalre",
)  # fmt: skip

AREA_KINDS = ("winkelgebied", "bedrijventerrein", "buitengebied")
LEAD_KINDS = ("intake", "terugbelverzoek")
LEAD_STATUSES = ("nieuw", "in_behandeling", "gepland", "afgerond", "afgewezen", "geannuleerd")
LEAD_ROLES = (
    "ondernemer", "ondernemersvereniging", "gemeente", "politie", "brandweer",
    "parkmanagement", "anders",
)  # fmt: skip
MAIL_KINDS = (
    "staff_new_booking", "staff_new_callback", "staff_cancelled", "staff_moved",
    "visitor_booking", "visitor_callback", "visitor_reminder", "visitor_cancelled",
    "visitor_moved", "facilitator_booking", "facilitator_reminder", "facilitator_cancelled",
    "facilitator_moved",
)  # fmt: skip
MAIL_STATUSES = ("pending", "sent", "failed", "cancelled")


def _enum(name: str, *values: str) -> sa.Enum:
    # VARCHAR only; the CHECK comes from _enum_check so its name is explicit.
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=False, length=32)


def _enum_check(table: str, column: str, name: str, *values: str) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=op.f(f"ck_{table}_{name}"))


def _nullable_enum_check(table: str, column: str, name: str, *values: str) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(
        f"{column} IS NULL OR {column} IN ({allowed})", name=op.f(f"ck_{table}_{name}")
    )


def _utc(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _timestamp(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def _quoted(values: Sequence[str]) -> str:
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values)


def _region_case(column: str) -> str:
    whens = " ".join(
        f"WHEN '{region}' THEN '{area}'" for region, area in REGION_TO_CONTACT_AREA.items()
    )
    return f"CASE {column} {whens} END"


def _migrate_regions_to_contact_areas() -> None:
    op.execute(f"UPDATE areas SET contact_area = {_region_case('pvo_region')}")
    op.execute(
        "UPDATE areas SET contact_area = CASE"
        f" WHEN province = 'Noord-Brabant' AND municipality IN ({_quoted(OOST_BRABANT_MUNICIPALITIES)})"
        f" THEN '{OB}' ELSE '{ZWB}' END"
        " WHERE contact_area IS NULL"
    )
    op.execute(f"UPDATE facilitators SET contact_area = {_region_case('region')}")
    op.execute(f"UPDATE facilitators SET contact_area = '{ZWB}' WHERE contact_area IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("areas") as batch:
        batch.add_column(sa.Column("contact_area", _enum("contact_area", *CONTACT_AREAS)))
    with op.batch_alter_table("facilitators") as batch:
        batch.add_column(sa.Column("contact_area", _enum("contact_area", *CONTACT_AREAS)))
        batch.add_column(
            sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch.add_column(
            sa.Column("rules_version", sa.Integer(), server_default="0", nullable=False)
        )

    _migrate_regions_to_contact_areas()

    with op.batch_alter_table("areas") as batch:
        batch.alter_column(
            "contact_area", existing_type=_enum("contact_area", *CONTACT_AREAS), nullable=False
        )
        batch.create_check_constraint(
            op.f("ck_areas_contact_area"), f"contact_area IN ({_quoted(CONTACT_AREAS)})"
        )
        batch.drop_column("pvo_region")
    with op.batch_alter_table("facilitators") as batch:
        batch.alter_column(
            "contact_area", existing_type=_enum("contact_area", *CONTACT_AREAS), nullable=False
        )
        batch.create_check_constraint(
            op.f("ck_facilitators_contact_area"), f"contact_area IN ({_quoted(CONTACT_AREAS)})"
        )
        batch.drop_column("region")
        batch.create_index(
            op.f("ix_facilitators_contact_area_active"), ["contact_area", "active"]
        )

    op.create_table(
        "availability_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("facilitator_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("slot_minutes", sa.SmallInteger(), server_default="60", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_availability_rules")),
        sa.ForeignKeyConstraint(
            ["facilitator_id"],
            ["facilitators.id"],
            name=op.f("fk_availability_rules_facilitator_id_facilitators"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "weekday BETWEEN 0 AND 6", name=op.f("ck_availability_rules_weekday_range")
        ),
        sa.CheckConstraint(
            "end_time > start_time", name=op.f("ck_availability_rules_end_after_start")
        ),
        sa.CheckConstraint(
            "slot_minutes BETWEEN 15 AND 480",
            name=op.f("ck_availability_rules_slot_minutes_range"),
        ),
    )
    op.create_index(
        op.f("ix_availability_rules_facilitator_id"), "availability_rules", ["facilitator_id"]
    )

    op.create_table(
        "blocked_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("facilitator_id", sa.Integer(), nullable=False),
        _utc("starts_at"),
        _utc("ends_at"),
        sa.Column("reason", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blocked_periods")),
        sa.ForeignKeyConstraint(
            ["facilitator_id"],
            ["facilitators.id"],
            name=op.f("fk_blocked_periods_facilitator_id_facilitators"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_blocked_periods_ends_after_start")),
    )
    op.create_index(
        op.f("ix_blocked_periods_facilitator_id_starts_at"),
        "blocked_periods",
        ["facilitator_id", "starts_at"],
    )

    op.create_table(
        "leads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(10), nullable=False),
        sa.Column("kind", _enum("lead_kind", *LEAD_KINDS), nullable=False),
        sa.Column("status", _enum("lead_status", *LEAD_STATUSES), nullable=False),
        sa.Column("contact_area", _enum("contact_area", *CONTACT_AREAS), nullable=True),
        sa.Column("municipality", sa.String(100), nullable=True),
        sa.Column("area_name", sa.String(200), nullable=True),
        sa.Column("area_kind", _enum("area_kind", *AREA_KINDS), nullable=True),
        sa.Column("role", _enum("lead_role", *LEAD_ROLES), nullable=True),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("phone", sa.String(20), nullable=True),
        sa.Column("organisation", sa.String(200), nullable=True),
        sa.Column("description", sa.String(1000), nullable=True),
        sa.Column("conversation_id", sa.String(255), nullable=True),
        sa.Column("conversation_key", sa.String(64), nullable=True),
        sa.Column("client_key", sa.String(64), nullable=True),
        _utc("consent_at"),
        sa.Column("facilitator_id", sa.Integer(), nullable=True),
        _utc("slot_start", nullable=True),
        _utc("slot_end", nullable=True),
        sa.Column("ics_sequence", sa.Integer(), server_default="0", nullable=False),
        _utc("erased_at", nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leads")),
        sa.UniqueConstraint("reference", name=op.f("uq_leads_reference")),
        sa.ForeignKeyConstraint(
            ["facilitator_id"],
            ["facilitators.id"],
            name=op.f("fk_leads_facilitator_id_facilitators"),
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(
            "reference LIKE 'INT-______' AND substr(reference, 1, 4) = 'INT-'",
            name=op.f("ck_leads_reference_format"),
        ),
        sa.CheckConstraint(
            "(slot_start IS NULL) = (slot_end IS NULL)",
            name=op.f("ck_leads_slot_start_and_end_together"),
        ),
        _enum_check("leads", "kind", "lead_kind", *LEAD_KINDS),
        _enum_check("leads", "status", "lead_status", *LEAD_STATUSES),
        _nullable_enum_check("leads", "contact_area", "contact_area", *CONTACT_AREAS),
        _nullable_enum_check("leads", "area_kind", "area_kind", *AREA_KINDS),
        _nullable_enum_check("leads", "role", "lead_role", *LEAD_ROLES),
    )
    for name, columns in (
        ("ix_leads_created_at", ["created_at"]),
        ("ix_leads_status_created_at", ["status", "created_at"]),
        ("ix_leads_contact_area_created_at", ["contact_area", "created_at"]),
        ("ix_leads_kind_created_at", ["kind", "created_at"]),
        ("ix_leads_client_key_created_at", ["client_key", "created_at"]),
        ("ix_leads_email_created_at", ["email", "created_at"]),
        ("ix_leads_phone_created_at", ["phone", "created_at"]),
        ("ix_leads_conversation_key", ["conversation_key"]),
        ("ix_leads_facilitator_id", ["facilitator_id"]),
    ):
        op.create_index(op.f(name), "leads", columns)

    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("facilitator_id", sa.Integer(), nullable=False),
        _utc("starts_at"),
        _utc("ends_at"),
        sa.Column("rules_version", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
        sa.UniqueConstraint("lead_id", name=op.f("uq_bookings_lead_id")),
        sa.UniqueConstraint(
            "facilitator_id", "starts_at", name=op.f("uq_bookings_facilitator_id_starts_at")
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_bookings_lead_id_leads"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["facilitator_id"],
            ["facilitators.id"],
            name=op.f("fk_bookings_facilitator_id_facilitators"),
            ondelete="RESTRICT",
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_bookings_ends_after_start")),
    )

    op.create_table(
        "lead_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        _utc("occurred_at"),
        sa.Column("event", sa.String(30), nullable=False),
        sa.Column("from_status", _enum("from_status", *LEAD_STATUSES), nullable=True),
        sa.Column("to_status", _enum("to_status", *LEAD_STATUSES), nullable=True),
        sa.Column("actor", sa.String(100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_events")),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_lead_events_lead_id_leads"),
            ondelete="CASCADE",
        ),
        _nullable_enum_check("lead_events", "from_status", "from_status", *LEAD_STATUSES),
        _nullable_enum_check("lead_events", "to_status", "to_status", *LEAD_STATUSES),
    )
    op.create_index(op.f("ix_lead_events_lead_id"), "lead_events", ["lead_id"])

    op.create_table(
        "intake_drafts",
        sa.Column("conversation_key", sa.String(64), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        _utc("created_at"),
        _utc("updated_at"),
        _utc("expires_at"),
        sa.PrimaryKeyConstraint("conversation_key", name=op.f("pk_intake_drafts")),
    )
    op.create_index(op.f("ix_intake_drafts_expires_at"), "intake_drafts", ["expires_at"])

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum("mail_kind", *MAIL_KINDS), nullable=False),
        sa.Column("facilitator_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", _enum("mail_status", *MAIL_STATUSES), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        _utc("next_attempt_at"),
        sa.Column("last_error", sa.String(100), nullable=True),
        _utc("sent_at", nullable=True),
        _utc("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_outbox_lead_id_leads"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["facilitator_id"],
            ["facilitators.id"],
            name=op.f("fk_outbox_facilitator_id_facilitators"),
            ondelete="SET NULL",
        ),
        _enum_check("outbox", "kind", "mail_kind", *MAIL_KINDS),
        _enum_check("outbox", "status", "mail_status", *MAIL_STATUSES),
    )
    op.create_index(
        op.f("ix_outbox_status_next_attempt_at"), "outbox", ["status", "next_attempt_at"]
    )
    op.create_index(op.f("ix_outbox_lead_id"), "outbox", ["lead_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_lead_id"), table_name="outbox")
    op.drop_index(op.f("ix_outbox_status_next_attempt_at"), table_name="outbox")
    op.drop_table("outbox")
    op.drop_index(op.f("ix_intake_drafts_expires_at"), table_name="intake_drafts")
    op.drop_table("intake_drafts")
    op.drop_index(op.f("ix_lead_events_lead_id"), table_name="lead_events")
    op.drop_table("lead_events")
    op.drop_table("bookings")
    for name in (
        "ix_leads_facilitator_id",
        "ix_leads_conversation_key",
        "ix_leads_phone_created_at",
        "ix_leads_email_created_at",
        "ix_leads_client_key_created_at",
        "ix_leads_kind_created_at",
        "ix_leads_contact_area_created_at",
        "ix_leads_status_created_at",
        "ix_leads_created_at",
    ):
        op.drop_index(op.f(name), table_name="leads")
    op.drop_table("leads")
    op.drop_index(
        op.f("ix_blocked_periods_facilitator_id_starts_at"), table_name="blocked_periods"
    )
    op.drop_table("blocked_periods")
    op.drop_index(op.f("ix_availability_rules_facilitator_id"), table_name="availability_rules")
    op.drop_table("availability_rules")

    with op.batch_alter_table("areas") as batch:
        batch.add_column(sa.Column("pvo_region", sa.String(100), nullable=True))
    with op.batch_alter_table("facilitators") as batch:
        batch.add_column(sa.Column("region", sa.String(100), nullable=True))
    op.execute(
        "UPDATE areas SET pvo_region = CASE"
        " WHEN province = 'Zeeland' THEN 'Zeeland'"
        f" WHEN contact_area = '{OB}' THEN 'Zuidoost-Brabant' ELSE 'West-Brabant' END"
    )
    op.execute(
        f"UPDATE facilitators SET region = CASE WHEN contact_area = '{OB}'"
        " THEN 'Zuidoost-Brabant' ELSE 'West-Brabant' END"
    )
    with op.batch_alter_table("areas") as batch:
        batch.alter_column("pvo_region", existing_type=sa.String(100), nullable=False)
        batch.drop_constraint(op.f("ck_areas_contact_area"), type_="check")
        batch.drop_column("contact_area")
    with op.batch_alter_table("facilitators") as batch:
        batch.alter_column("region", existing_type=sa.String(100), nullable=False)
        batch.drop_index(op.f("ix_facilitators_contact_area_active"))
        batch.drop_constraint(op.f("ck_facilitators_contact_area"), type_="check")
        batch.drop_column("rules_version")
        batch.drop_column("active")
        batch.drop_column("contact_area")
