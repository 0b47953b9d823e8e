"""Indexes for the pages at scale: a subject's trail by prefix, the SAE clock by item path,
the query list in the order it pages.

Revision ID: a4c1e9d7b2f3
Revises: a4d9e1c7b3f2
Create Date: 2026-12-07 03:10:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a4c1e9d7b2f3'
down_revision = 'a4d9e1c7b3f2'
branch_labels = None
depends_on = None


def upgrade():
    # Plain index operations, never a batch: on SQLite a batch could copy audit_event into a
    # new table and lose its append-only triggers.
    # Pattern operators (PostgreSQL only; SQLite ignores them): LIKE 'prefix%' is answered
    # from the index whatever the database's collation. Equality lookups still use it.
    op.drop_index('ix_audit_event_entity', table_name='audit_event')
    op.create_index(
        'ix_audit_event_entity',
        'audit_event',
        ['entity', 'entity_id'],
        postgresql_ops={'entity_id': 'varchar_pattern_ops'},
    )
    op.create_index(
        'ix_audit_event_field',
        'audit_event',
        ['field'],
        postgresql_ops={'field': 'varchar_pattern_ops'},
    )
    op.create_index('ix_data_query_opened_at', 'data_query', ['opened_at', 'id'])


def downgrade():
    op.drop_index('ix_data_query_opened_at', table_name='data_query')
    op.drop_index('ix_audit_event_field', table_name='audit_event')
    op.drop_index('ix_audit_event_entity', table_name='audit_event')
    op.create_index('ix_audit_event_entity', 'audit_event', ['entity', 'entity_id'])
