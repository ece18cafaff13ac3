"""Sources that see no content; incidents that continue a closed one.

``sources.last_empty``: how many pages of the source's last run showed no text (an
empty page, 加载中, 请开启 JavaScript, a login wall), so ``sentinel status`` and the
digest can say the source is not seeing content (看不到正文) instead of 正常.

``incidents.related_to_id``: the closed incident whose story came back after the
reopening period (``incidents.tracking.reopen_within``): the new incident is marked
关联事件 #N.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "sources", sa.Column("last_empty", sa.Integer(), nullable=False, server_default="0")
    )
    # A plain ADD COLUMN on SQLite too (no table rebuild: the rows that refer to
    # incidents and the incident log's append-only triggers stay as they are).
    fk = "fk_incidents_related_to_id_incidents"
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"ALTER TABLE incidents ADD COLUMN related_to_id INTEGER "
            f"CONSTRAINT {fk} REFERENCES incidents (id)"
        )
    else:
        op.add_column("incidents", sa.Column("related_to_id", sa.Integer(), nullable=True))
        op.create_foreign_key(fk, "incidents", "incidents", ["related_to_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("related_to_id")
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("last_empty")
