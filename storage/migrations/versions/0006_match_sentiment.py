"""The post's polarity stored with its match (negative / neutral / positive and a score
from -1 to 1), for mails, digests, statistics and the early warning.

Revision ID: 0006_match_sentiment
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_match_sentiment"
# The brief names the parent "0005_daemon_operations"; the stored id of that revision is
# "0005" (see 0005_daemon_operations.py), so that is what alembic can chain to.
down_revision = "0006_web_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("matches") as t:
        t.add_column(sa.Column("sentiment", sa.String(length=10), nullable=True))
        t.add_column(sa.Column("sentiment_score", sa.Float(), nullable=True))
        t.create_index(op.f("ix_matches_sentiment"), ["sentiment"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("matches") as t:
        t.drop_index(op.f("ix_matches_sentiment"))
        t.drop_column("sentiment_score")
        t.drop_column("sentiment")
