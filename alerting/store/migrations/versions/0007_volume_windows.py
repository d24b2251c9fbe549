"""the volume trigger over sliding windows: each article naming a watched name, and the names a
volume alert holds

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 12:00:00

The hourly counts (volume_counts) stay: they are the baseline. Spikes are now found in any window
of the configured length over volume_mentions, and one volume alert holds a spike (of one or more
names, volume_spikes) while it lasts.
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('volume_mentions',
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('article_id', sa.String(length=80), nullable=False),
    sa.Column('story_key', sa.String(length=200), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', 'article_id')
    )
    with op.batch_alter_table('volume_mentions', schema=None) as batch_op:
        batch_op.create_index('ix_volume_mentions_name_seen', ['name', 'seen_at'], unique=False)

    op.create_table('volume_spikes',
    sa.Column('alert_id', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('peak', sa.Integer(), nullable=False),
    sa.Column('stories', sa.Integer(), nullable=False),
    sa.Column('usual', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], ),
    sa.PrimaryKeyConstraint('alert_id', 'name')
    )


def downgrade() -> None:
    op.drop_table('volume_spikes')
    with op.batch_alter_table('volume_mentions', schema=None) as batch_op:
        batch_op.drop_index('ix_volume_mentions_name_seen')
    op.drop_table('volume_mentions')
