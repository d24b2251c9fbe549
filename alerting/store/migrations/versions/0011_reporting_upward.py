"""reporting upward level by level with receipts, and the records of handling

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 13:00:00

``reports`` keeps, per report made, the 组长's reason when a level of the chain was skipped and
the receipt (回执): who at the receiving unit confirmed it, how (电话, 传真, 机要, 邮件), when, and
who of ours recorded it. ``handlings`` holds each act of handling (舆情处置): a 回应, 澄清, 辟谣 or
信息发布 with its link and text, a clue handed over (线索移交, with the receiving office's task), a
piece of work with a partner (协同). Reports made before this revision have no receipt.
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('skip_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('received_by', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('received_via', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('received_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('receipt_recorded_by', sa.String(length=80), nullable=True))
    op.create_table('handlings',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('alert_id', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('link', sa.Text(), nullable=True),
    sa.Column('office', sa.String(length=40), nullable=False),
    sa.Column('partner', sa.String(length=30), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('actor_office', sa.String(length=40), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], ),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('handlings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handlings_alert_id'), ['alert_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('handlings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handlings_alert_id'))
    op.drop_table('handlings')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_column('receipt_recorded_by')
        batch_op.drop_column('received_at')
        batch_op.drop_column('received_via')
        batch_op.drop_column('received_by')
        batch_op.drop_column('skip_reason')
