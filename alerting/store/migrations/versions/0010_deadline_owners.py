"""every deadline has a 责任人, and who owned it is kept as it changes

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-07 06:00:00

``deadlines.person`` is the person who owns the duty now; ``deadline_owners`` keeps each owner
from the moment it took the duty, so that a missed deadline is laid at the door of whoever owned
it when it fell due. Deadlines from before this revision have no person ("").
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('person', sa.String(length=80), nullable=False, server_default=''))
    op.create_table('deadline_owners',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('deadline_id', sa.Integer(), nullable=False),
    sa.Column('office', sa.String(length=40), nullable=False),
    sa.Column('person', sa.String(length=80), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('why', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['deadline_id'], ['deadlines.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('deadline_owners', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deadline_owners_deadline_id'), ['deadline_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('deadline_owners', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deadline_owners_deadline_id'))
    op.drop_table('deadline_owners')
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_column('person')
