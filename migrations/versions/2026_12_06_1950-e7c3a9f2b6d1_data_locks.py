"""Data locks on a form, a visit, a subject, a site or the whole study (data_lock).

Revision ID: e7c3a9f2b6d1
Revises: 8dcf40505b53
Create Date: 2026-12-06 19:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e7c3a9f2b6d1'
down_revision = '8dcf40505b53'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('data_lock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Enum('study', 'site', 'subject', 'visit', 'form', name='locklevel', native_enum=False, length=10), nullable=False),
    sa.Column('target', sa.String(length=120), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('visit_oid', sa.String(length=40), nullable=True),
    sa.Column('visit_repeat', sa.Integer(), nullable=True),
    sa.Column('form_oid', sa.String(length=40), nullable=True),
    sa.Column('lock_reason', sa.Text(), nullable=True),
    sa.Column('locked_by_id', sa.Integer(), nullable=True),
    sa.Column('locked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('unlocked_by_id', sa.Integer(), nullable=True),
    sa.Column('unlocked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('unlock_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['locked_by_id'], ['user_account.id'], name=op.f('fk_data_lock_locked_by_id_user_account')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_data_lock_site_id_site')),
    sa.ForeignKeyConstraint(['subject_id'], ['subject.id'], name=op.f('fk_data_lock_subject_id_subject')),
    sa.ForeignKeyConstraint(['unlocked_by_id'], ['user_account.id'], name=op.f('fk_data_lock_unlocked_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_lock'))
    )
    with op.batch_alter_table('data_lock', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_lock_site_id'), ['site_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_data_lock_subject_id'), ['subject_id'], unique=False)
        batch_op.create_index('uq_data_lock_active_target', ['target'], unique=True, sqlite_where=sa.text('unlocked_at IS NULL'), postgresql_where=sa.text('unlocked_at IS NULL'))


def downgrade():
    with op.batch_alter_table('data_lock', schema=None) as batch_op:
        batch_op.drop_index('uq_data_lock_active_target', sqlite_where=sa.text('unlocked_at IS NULL'), postgresql_where=sa.text('unlocked_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_data_lock_subject_id'))
        batch_op.drop_index(batch_op.f('ix_data_lock_site_id'))

    op.drop_table('data_lock')
