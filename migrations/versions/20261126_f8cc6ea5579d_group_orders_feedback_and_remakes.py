"""Group orders (the organiser's group and its members), unit feedback and remake requests.

Revision ID: f8cc6ea5579d
Revises: 5d1e0a7c9b21
Create Date: 2026-11-26 12:57:14.009650

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 'f8cc6ea5579d'
down_revision = '5d1e0a7c9b21'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('group_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('organiser_name', sa.String(length=200), nullable=False),
    sa.Column('organiser_email', sa.String(length=254), nullable=False),
    sa.Column('organiser_token', sa.String(length=64), nullable=False),
    sa.Column('invite_token', sa.String(length=64), nullable=False),
    sa.Column('product_id', sa.String(length=64), nullable=False),
    sa.Column('spec_version', sa.String(length=64), nullable=False),
    sa.Column('base_design', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('member_options', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('expected_members', sa.Integer(), nullable=False),
    sa.Column('closes_at', sa.DateTime(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('placed_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_group_order_order_id_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_order')),
    sa.UniqueConstraint('invite_token', name=op.f('uq_group_order_invite_token')),
    sa.UniqueConstraint('organiser_token', name=op.f('uq_group_order_organiser_token'))
    )
    op.create_table('group_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('first_name', sa.String(length=60), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('design', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('problems', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('joined_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['group_order.id'], name=op.f('fk_group_member_group_id_group_order')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_group_member_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_member')),
    sa.UniqueConstraint('token', name=op.f('uq_group_member_token'))
    )
    with op.batch_alter_table('group_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_member_group_id'), ['group_id'], unique=False)

    op.create_table('remake_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('changes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.Column('remake_unit_id', sa.Integer(), nullable=True),
    sa.Column('cost', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("category IN ('fit', 'quality')", name=op.f('ck_remake_request_category')),
    sa.CheckConstraint("status IN ('requested', 'approved', 'declined')", name=op.f('ck_remake_request_status')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_remake_request_decided_by_id_user')),
    sa.ForeignKeyConstraint(['remake_unit_id'], ['unit.id'], name=op.f('fk_remake_request_remake_unit_id_unit')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_remake_request_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_remake_request')),
    sa.UniqueConstraint('remake_unit_id', name=op.f('uq_remake_request_remake_unit_id'))
    )
    with op.batch_alter_table('remake_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_remake_request_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_remake_request_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_remake_request_unit_id'), ['unit_id'], unique=False)

    op.create_table('unit_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('fit', sa.SmallInteger(), nullable=False),
    sa.Column('quality', sa.SmallInteger(), nullable=False),
    sa.Column('delivery', sa.SmallInteger(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('delivery BETWEEN 1 AND 5', name=op.f('ck_unit_feedback_delivery_1_to_5')),
    sa.CheckConstraint('fit BETWEEN 1 AND 5', name=op.f('ck_unit_feedback_fit_1_to_5')),
    sa.CheckConstraint('quality BETWEEN 1 AND 5', name=op.f('ck_unit_feedback_quality_1_to_5')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_unit_feedback_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_feedback')),
    sa.UniqueConstraint('unit_id', name=op.f('uq_unit_feedback_unit_id'))
    )
    with op.batch_alter_table('unit_feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_feedback_received_at'), ['received_at'], unique=False)



def downgrade():
    with op.batch_alter_table('unit_feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_feedback_received_at'))

    op.drop_table('unit_feedback')
    with op.batch_alter_table('remake_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_remake_request_unit_id'))
        batch_op.drop_index(batch_op.f('ix_remake_request_status'))
        batch_op.drop_index(batch_op.f('ix_remake_request_created_at'))

    op.drop_table('remake_request')
    with op.batch_alter_table('group_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_group_member_group_id'))

    op.drop_table('group_member')
    op.drop_table('group_order')
