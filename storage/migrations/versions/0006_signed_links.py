"""One-tap links in mails: one row per link issued, used once.

Revision ID: 0006_signed_links
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0006_signed_links"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signed_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("reply_version", sa.Integer(), nullable=True),
        sa.Column("issued_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_signed_links_incident_id_incidents"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_signed_links_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signed_links")),
        sa.UniqueConstraint("nonce", name=op.f("uq_signed_links_nonce")),
    )
    with op.batch_alter_table("signed_links") as t:
        t.create_index(t.f("ix_signed_links_incident_id"), ["incident_id"], unique=False)
        t.create_index(t.f("ix_signed_links_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_table("signed_links")
