"""Investigator electronic signatures bound to the hash of their content (signature).

Revision ID: e7c2a9d4b1f6
Revises: e7c3a9f2b6d1
Create Date: 2026-12-06 19:55:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e7c2a9d4b1f6'
down_revision = 'e7c3a9f2b6d1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('signature',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.Enum('visit', 'inclusion', 'casebook', name='scope', native_enum=False, length=10), nullable=False),
    sa.Column('visit_oid', sa.String(length=40), nullable=True),
    sa.Column('visit_repeat', sa.Integer(), nullable=True),
    sa.Column('signer_id', sa.Integer(), nullable=False),
    sa.Column('printed_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('meaning', sa.Text(), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('open_queries', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('valid', 'invalidated', name='signaturestate', native_enum=False, length=12), nullable=False),
    sa.Column('invalidated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('invalidated_by_id', sa.Integer(), nullable=True),
    sa.Column('change_kind', sa.Enum('form_saved', 'row_removed', 'visit_date', 'status', name='changekind', native_enum=False, length=12), nullable=True),
    sa.Column('change_where', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['invalidated_by_id'], ['user_account.id'], name=op.f('fk_signature_invalidated_by_id_user_account')),
    sa.ForeignKeyConstraint(['signer_id'], ['user_account.id'], name=op.f('fk_signature_signer_id_user_account')),
    sa.ForeignKeyConstraint(['subject_id'], ['subject.id'], name=op.f('fk_signature_subject_id_subject')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signature'))
    )
    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signature_subject_id'), ['subject_id'], unique=False)


def downgrade():
    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signature_subject_id'))

    op.drop_table('signature')
