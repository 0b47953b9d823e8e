"""Data queries on captured data (data_query) and their threads of messages (query_message).

Revision ID: 8dcf40505b53
Revises: d5b1c7e3a2f4
Create Date: 2026-12-06 17:07:43.351117

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8dcf40505b53'
down_revision = 'd5b1c7e3a2f4'
branch_labels = None
depends_on = None


def upgrade():
    
    op.create_table('data_query',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('group_oid', sa.String(length=40), nullable=True),
    sa.Column('repeat_key', sa.Integer(), nullable=True),
    sa.Column('item_oid', sa.String(length=40), nullable=True),
    sa.Column('level', sa.Enum('item', 'row', 'form', 'visit', name='querylevel', native_enum=False, length=10), nullable=False),
    sa.Column('state', sa.Enum('open', 'answered', 'closed', name='querystate', native_enum=False, length=10), nullable=False),
    sa.Column('finding_id', sa.Integer(), nullable=True),
    sa.Column('opened_by_id', sa.Integer(), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['form_entry.id'], name=op.f('fk_data_query_entry_id_form_entry')),
    sa.ForeignKeyConstraint(['finding_id'], ['finding.id'], name=op.f('fk_data_query_finding_id_finding')),
    sa.ForeignKeyConstraint(['opened_by_id'], ['user_account.id'], name=op.f('fk_data_query_opened_by_id_user_account')),
    sa.ForeignKeyConstraint(['subject_id'], ['subject.id'], name=op.f('fk_data_query_subject_id_subject')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_data_query_visit_id_visit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_query')),
    sa.UniqueConstraint('finding_id', name=op.f('uq_data_query_finding_id'))
    )
    with op.batch_alter_table('data_query', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_query_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_data_query_subject_id'), ['subject_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_data_query_visit_id'), ['visit_id'], unique=False)

    op.create_table('query_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('query_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('opened', 'answered', 'closed', 'reopened', 'resolved', name='messagekind', native_enum=False, length=10), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_query_message_author_id_user_account')),
    sa.ForeignKeyConstraint(['query_id'], ['data_query.id'], name=op.f('fk_query_message_query_id_data_query')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_query_message'))
    )
    with op.batch_alter_table('query_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_query_message_query_id'), ['query_id'], unique=False)

    


def downgrade():
    
    with op.batch_alter_table('query_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_query_message_query_id'))

    op.drop_table('query_message')
    with op.batch_alter_table('data_query', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_data_query_visit_id'))
        batch_op.drop_index(batch_op.f('ix_data_query_subject_id'))
        batch_op.drop_index(batch_op.f('ix_data_query_entry_id'))

    op.drop_table('data_query')
    
