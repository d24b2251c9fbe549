"""the locality of each alert (本地, 本市/本省, 外地, 未标明地点)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 13:30:00

``alerts.locality`` says whether the item is the commission's own (alerting.locality). Alerts
from before this revision are ``unknown``, which keeps their clocks as they were.
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locality', sa.String(length=16), nullable=False, server_default='unknown'))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops a plain column in place (3.35+); the batch mode's copy of the table would
        # have to drop alerts, which the other tables' foreign keys refuse
        op.execute("ALTER TABLE alerts DROP COLUMN locality")
    else:
        op.drop_column('alerts', 'locality')
