"""Source-data verification: values verified against the source (source_verification) and
the sites' own share of subjects to verify (sdv_site_plan).

Revision ID: b7e2c9d4f1a6
Revises: e3a7c9b1d5f2
Create Date: 2026-12-06 19:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e2c9d4f1a6'
down_revision = 'e3a7c9b1d5f2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('source_verification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('group_oid', sa.String(length=40), nullable=False),
    sa.Column('repeat_key', sa.Integer(), nullable=False),
    sa.Column('item_oid', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Text(), nullable=True),
    sa.Column('verified_by_id', sa.Integer(), nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_by_id', sa.Integer(), nullable=True),
    sa.Column('withdrawn_cause', sa.Enum('changed', 'row_removed', name='withdrawal', native_enum=False, length=12), nullable=True),
    sa.Column('withdrawn_value', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['form_entry.id'], name=op.f('fk_source_verification_entry_id_form_entry')),
    sa.ForeignKeyConstraint(['subject_id'], ['subject.id'], name=op.f('fk_source_verification_subject_id_subject')),
    sa.ForeignKeyConstraint(['verified_by_id'], ['user_account.id'], name=op.f('fk_source_verification_verified_by_id_user_account')),
    sa.ForeignKeyConstraint(['withdrawn_by_id'], ['user_account.id'], name=op.f('fk_source_verification_withdrawn_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_source_verification'))
    )
    with op.batch_alter_table('source_verification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_source_verification_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_source_verification_subject_id'), ['subject_id'], unique=False)

    op.create_table('sdv_site_plan',
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('percentage', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_sdv_site_plan_site_id_site')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], name=op.f('fk_sdv_site_plan_updated_by_id_user_account')),
    sa.PrimaryKeyConstraint('site_id', name=op.f('pk_sdv_site_plan'))
    )


def downgrade():
    op.drop_table('sdv_site_plan')
    with op.batch_alter_table('source_verification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_source_verification_subject_id'))
        batch_op.drop_index(batch_op.f('ix_source_verification_entry_id'))

    op.drop_table('source_verification')
