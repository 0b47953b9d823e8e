"""Monitoring visits at sites (monitoring_visit): the day a monitor was there, by whom.

Revision ID: e7c3a91d5f20
Revises: e7c2a9d4b1f6
Create Date: 2026-12-06 19:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e7c3a91d5f20'
down_revision = 'e7c2a9d4b1f6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('monitoring_visit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('visit_date', sa.Date(), nullable=False),
    sa.Column('monitor_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['monitor_id'], ['user_account.id'], name=op.f('fk_monitoring_visit_monitor_id_user_account')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_monitoring_visit_site_id_site')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_visit'))
    )
    with op.batch_alter_table('monitoring_visit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitoring_visit_site_id'), ['site_id'], unique=False)


def downgrade():
    with op.batch_alter_table('monitoring_visit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitoring_visit_site_id'))

    op.drop_table('monitoring_visit')
