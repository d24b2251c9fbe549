"""信访室's letters, visits, calls and online reports, linked to alerts

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 13:10:00

One row per petition item (来信/来访/来电/网上举报) as 信访室 records it: when it was received, by
which channel, what it says, whether it was signed (实名) and the alert it belongs to. The
petitioner's name is not kept here: the alert page is read by other offices, and the rules
protect whoever reports.
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('petitions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('alert_id', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('named', sa.Boolean(), nullable=False),
    sa.Column('office', sa.String(length=40), nullable=False),
    sa.Column('recorded_by', sa.String(length=80), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_petitions_alert_id'), ['alert_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_petitions_alert_id'))
    op.drop_table('petitions')
