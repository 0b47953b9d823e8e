"""Audit review: the reviewers' "reviewed" marks (audit_review_mark).

Revision ID: e3a7c9b1d5f2
Revises: e7c3a91d5f20
Create Date: 2026-12-06 19:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e3a7c9b1d5f2'
down_revision = 'e7c3a91d5f20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_review_mark',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('form_oid', sa.String(length=40), nullable=True),
    sa.Column('item_oid', sa.String(length=40), nullable=True),
    sa.Column('changed_by', sa.String(length=80), nullable=True),
    sa.Column('up_to_seq', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['reviewer_id'], ['user_account.id'], name=op.f('fk_audit_review_mark_reviewer_id_user_account')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_audit_review_mark_site_id_site')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_review_mark'))
    )
    with op.batch_alter_table('audit_review_mark', schema=None) as batch_op:
        batch_op.create_index('ix_audit_review_mark_reviewer_site', ['reviewer_id', 'site_id'], unique=False)


def downgrade():
    with op.batch_alter_table('audit_review_mark', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_review_mark_reviewer_site')

    op.drop_table('audit_review_mark')
