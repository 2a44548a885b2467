"""Work orders remember when a render worker's dispatcher queued them: new work orders are
queued from the database by the render workers (a transactional outbox), not by the web
request. A partial index keeps the dispatchers' poll small.

Revision ID: 8b3e5f1a2c4d
Revises: f8cc6ea5579d
Create Date: 2026-12-06 05:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8b3e5f1a2c4d'
down_revision = 'f8cc6ea5579d'
branch_labels = None
depends_on = None

UNDISPATCHED = "status = 'pending' AND dispatched_at IS NULL"


def upgrade():
    with op.batch_alter_table('work_order') as batch_op:
        # Work orders already pending are queued again by the first poll: harmless for one
        # that is queued already (a render task renders a work order once), and it renders one
        # whose task was lost.
        batch_op.add_column(sa.Column('dispatched_at', sa.DateTime(), nullable=True))
    op.create_index('ix_work_order_undispatched', 'work_order', ['id'], unique=False,
                    postgresql_where=sa.text(UNDISPATCHED), sqlite_where=sa.text(UNDISPATCHED))


def downgrade():
    op.drop_index('ix_work_order_undispatched', table_name='work_order',
                  postgresql_where=sa.text(UNDISPATCHED), sqlite_where=sa.text(UNDISPATCHED))
    with op.batch_alter_table('work_order') as batch_op:
        batch_op.drop_column('dispatched_at')
