"""Jobs about one subject (its casebook): the subject's identifier on the job.

Revision ID: c4a8e2f1d9b3
Revises: b7d2a4e9c611
Create Date: 2026-12-06 10:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4a8e2f1d9b3'
down_revision = 'b7d2a4e9c611'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_column('subject')
