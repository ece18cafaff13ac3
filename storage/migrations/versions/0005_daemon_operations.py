"""The daemon's operations: a failing source's next attempt (backoff); the daemon's
configuration state (a broken sentinel.yaml kept out, shown by ``status``); the crawl
workers taking site crawls from the crawl queue.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as t:
        t.add_column(
            sa.Column("next_attempt_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("daemon_lock") as t:
        t.add_column(sa.Column("config_error", sa.Text(), nullable=True))
        t.add_column(
            sa.Column("config_loaded_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )

    op.create_table(
        "crawl_workers",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("host", sa.String(length=200), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.Column("run", sa.String(length=300), nullable=True),
        sa.Column("started_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_crawl_workers")),
    )


def downgrade() -> None:
    op.drop_table("crawl_workers")
    with op.batch_alter_table("daemon_lock") as t:
        t.drop_column("config_loaded_at")
        t.drop_column("config_error")
    with op.batch_alter_table("sources") as t:
        t.drop_column("next_attempt_at")
