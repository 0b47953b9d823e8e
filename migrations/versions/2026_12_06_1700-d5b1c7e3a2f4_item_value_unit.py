"""Items with several units: the UCUM unit a value was entered in, kept beside it.

Revision ID: d5b1c7e3a2f4
Revises: c4a8e2f1d9b3
Create Date: 2026-12-06 17:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd5b1c7e3a2f4'
down_revision = 'c4a8e2f1d9b3'
branch_labels = None
depends_on = None


def upgrade():
    # Nullable: values stored before are in their item's standard unit.
    with op.batch_alter_table('item_value', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('item_value', schema=None) as batch_op:
        batch_op.drop_column('unit')
