"""Job parameters (the demo seeding's count, seed and day), so a restart resumes it.

Revision ID: a4d9e1c7b3f2
Revises: de2c01d0f15d
Create Date: 2026-12-07 02:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a4d9e1c7b3f2'
down_revision = 'de2c01d0f15d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('params', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_column('params')
