"""the spread counters of each article of a story, and their sum on its alert, for the engagement
rules and the story view

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 13:10:00

``alert_articles.spread`` holds what the article's page showed when fetched (reposts, comments,
likes, reads); ``alerts.reach`` their sum over the alert's articles. Articles taken in before
this revision show none ({}), so their alerts' reach starts at {} too.
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('alert_articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('spread', sa.JSON(), nullable=False, server_default='{}'))
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reach', sa.JSON(), nullable=False, server_default='{}'))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops a plain column in place (3.35+); the batch mode's copy of the table would
        # have to drop alerts, which the other tables' foreign keys refuse
        op.execute("ALTER TABLE alerts DROP COLUMN reach")
        op.execute("ALTER TABLE alert_articles DROP COLUMN spread")
    else:
        op.drop_column('alerts', 'reach')
        op.drop_column('alert_articles', 'spread')
