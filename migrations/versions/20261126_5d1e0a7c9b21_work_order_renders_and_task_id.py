"""Work orders count their completed renders and remember the render task that claimed them,
so a worker killed mid-render is taken over by the redelivered task and nothing renders twice.

Revision ID: 5d1e0a7c9b21
Revises: 316c02c4bb38
Create Date: 2026-11-26 12:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d1e0a7c9b21'
down_revision = '316c02c4bb38'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('work_order') as batch_op:
        # Existing rows: done ones were rendered once, the others not yet.
        batch_op.add_column(sa.Column('renders', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('task_id', sa.String(length=64), nullable=True))
    op.execute("UPDATE work_order SET renders = 1 WHERE status = 'done'")


def downgrade():
    with op.batch_alter_table('work_order') as batch_op:
        batch_op.drop_column('task_id')
        batch_op.drop_column('renders')
