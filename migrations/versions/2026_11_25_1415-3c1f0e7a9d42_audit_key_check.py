"""Audit chain head: the key check (HMAC of a constant under the audit key).

Events are hashed with a key from this revision on. A trail written before it (hashed
without a key; the project holds no production data) does not verify under any key.

Revision ID: 3c1f0e7a9d42
Revises: 57f95b40c02e
Create Date: 2026-11-25 14:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3c1f0e7a9d42'
down_revision = "3c1e8f0a7d21"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_check', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.drop_column('key_check')
