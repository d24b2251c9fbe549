"""messages tied to their clocks: urgent, the deadline they are about, when they become moot

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 10:00:00

``status`` widens to 16 characters for ``withdrawn`` (a message that became moot before it went
out). Rows queued before this revision are not urgent and tied to no deadline: they are delivered
as before.
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('notifications') as batch:
        batch.alter_column('status', existing_type=sa.String(length=8), type_=sa.String(length=16),
                           existing_nullable=False)
        batch.add_column(sa.Column('urgent', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('deadline_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key('fk_notifications_deadline_id', 'deadlines', ['deadline_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('notifications') as batch:
        batch.drop_constraint('fk_notifications_deadline_id', type_='foreignkey')
        batch.drop_column('expires_at')
        batch.drop_column('deadline_id')
        batch.drop_column('urgent')
        batch.alter_column('status', existing_type=sa.String(length=16), type_=sa.String(length=8),
                           existing_nullable=False)
