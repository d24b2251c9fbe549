"""the leading group's review of briefings: approved, or returned for rework with a note

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 18:00:00

One row per briefing name; each decision is also appended to the audit log, which keeps them all.
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('briefing_reviews',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('modified', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )


def downgrade() -> None:
    op.drop_table('briefing_reviews')
