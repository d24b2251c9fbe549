"""dismissals need a second person; the 组长 may exempt an upward report, with a reason

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-07 05:00:00

Dismissing a 较大 or 重大 item is a proposal until the 组长 approves it (``dismissals``); closing
an alert needs its upward reports made, or the 组长's exemption recorded on the deadline.
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dismissals',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('alert_id', sa.String(length=16), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('proposed_by', sa.String(length=80), nullable=False),
    sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('decided_by', sa.String(length=80), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('dismissals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dismissals_alert_id'), ['alert_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dismissals_decided_at'), ['decided_at'], unique=False)
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('exempted_by', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('exempted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('exempt_reason', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_column('exempt_reason')
        batch_op.drop_column('exempted_at')
        batch_op.drop_column('exempted_by')
    with op.batch_alter_table('dismissals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dismissals_decided_at'))
        batch_op.drop_index(batch_op.f('ix_dismissals_alert_id'))
    op.drop_table('dismissals')
