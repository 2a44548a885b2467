"""Initial schema: every table of the models as of issue 6 (orders, units, work orders, partners,
users, stock, capacity, spec sources).

Reviewed by hand: JSON is JSONB on PostgreSQL and JSON text on SQLite (as in models/_types.py),
money is Numeric(12, 2) and quantities Numeric(14, 4) on both; defaults are set by the models in
Python, so there are no server defaults (a later revision that adds a NOT NULL column to a table
with rows must give one). Constraint names follow the naming convention of extensions.py.

Revision ID: 316c02c4bb38
Revises:
Create Date: 2026-11-26 12:22:30.476748

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '316c02c4bb38'
down_revision = None
branch_labels = None
depends_on = None

# JSONB on PostgreSQL, JSON text elsewhere (frozen here: a revision never imports the models).
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    op.create_table('capacity_booking',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_capacity_booking')),
    sa.UniqueConstraint('station_id', 'day', name=op.f('uq_capacity_booking_station_id'))
    )
    op.create_table('draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('product_id', sa.String(length=64), nullable=False),
    sa.Column('spec_version', sa.String(length=64), nullable=False),
    sa.Column('design', JSON, nullable=False),
    sa.Column('parent_token', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_draft')),
    sa.UniqueConstraint('token', name=op.f('uq_draft_token'))
    )
    op.create_table('material_stock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.String(length=64), nullable=False),
    sa.Column('material_id', sa.String(length=64), nullable=False),
    sa.Column('on_hand', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('reserved', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_material_stock')),
    sa.UniqueConstraint('product_id', 'material_id', name=op.f('uq_material_stock_product_id'))
    )
    op.create_table('order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=32), nullable=False),
    sa.Column('tracking_token', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('customer_name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('total', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('promised_date', sa.Date(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=True),
    sa.Column('partner_reference', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order')),
    sa.UniqueConstraint('reference', name=op.f('uq_order_reference')),
    sa.UniqueConstraint('tracking_token', name=op.f('uq_order_tracking_token'))
    )
    op.create_index(op.f('ix_order_partner_id'), 'order', ['partner_id'], unique=False)
    op.create_table('partner',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('contact_email', sa.String(length=254), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner')),
    sa.UniqueConstraint('name', name=op.f('uq_partner_name'))
    )
    op.create_table('spec_source',
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('product_id', sa.String(length=64), nullable=False),
    sa.Column('product_text', sa.Text(), nullable=False),
    sa.Column('line_text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_spec_source'))
    )
    op.create_table('user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user')),
    sa.UniqueConstraint('email', name=op.f('uq_user_email'))
    )
    op.create_table('idempotency_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('response_body', sa.Text(), nullable=True),
    sa.Column('response_headers', JSON, nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('locked_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_idempotency_record_order_id_order')),
    sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], name=op.f('fk_idempotency_record_partner_id_partner')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_record')),
    sa.UniqueConstraint('partner_id', 'key', name=op.f('uq_idempotency_record_partner_id'))
    )
    op.create_table('partner_api_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('prefix', sa.String(length=24), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], name=op.f('fk_partner_api_key_partner_id_partner')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_api_key')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_partner_api_key_key_hash'))
    )
    op.create_index(op.f('ix_partner_api_key_partner_id'), 'partner_api_key', ['partner_id'], unique=False)
    op.create_table('partner_staff',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], name=op.f('fk_partner_staff_partner_id_partner')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_staff')),
    sa.UniqueConstraint('email', name=op.f('uq_partner_staff_email'))
    )
    op.create_index(op.f('ix_partner_staff_partner_id'), 'partner_staff', ['partner_id'], unique=False)
    op.create_table('partner_webhook',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('secret', sa.String(length=100), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], name=op.f('fk_partner_webhook_partner_id_partner')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_webhook'))
    )
    op.create_index(op.f('ix_partner_webhook_partner_id'), 'partner_webhook', ['partner_id'], unique=False)
    op.create_table('unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('product_id', sa.String(length=64), nullable=False),
    sa.Column('spec_version', sa.String(length=64), nullable=False),
    sa.Column('design', JSON, nullable=False),
    sa.Column('quote', JSON, nullable=False),
    sa.Column('bill', JSON, nullable=False),
    sa.Column('routing', JSON, nullable=False),
    sa.Column('price', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('status', sa.String(length=64), nullable=False),
    sa.Column('promised_date', sa.Date(), nullable=False),
    sa.Column('remake_of_id', sa.Integer(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_unit_order_id_order')),
    sa.ForeignKeyConstraint(['remake_of_id'], ['unit.id'], name=op.f('fk_unit_remake_of_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit')),
    sa.UniqueConstraint('code', name=op.f('uq_unit_code'))
    )
    op.create_index(op.f('ix_unit_order_id'), 'unit', ['order_id'], unique=False)
    op.create_index(op.f('ix_unit_product_id'), 'unit', ['product_id'], unique=False)
    op.create_index(op.f('ix_unit_promised_date'), 'unit', ['promised_date'], unique=False)
    op.create_index(op.f('ix_unit_status'), 'unit', ['status'], unique=False)
    op.create_table('partner_webhook_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('webhook_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('event_type', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('log', JSON, nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('delivered_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['webhook_id'], ['partner_webhook.id'], name=op.f('fk_partner_webhook_delivery_webhook_id_partner_webhook')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_webhook_delivery')),
    sa.UniqueConstraint('event_id', name=op.f('uq_partner_webhook_delivery_event_id'))
    )
    op.create_index(op.f('ix_partner_webhook_delivery_next_attempt_at'), 'partner_webhook_delivery', ['next_attempt_at'], unique=False)
    op.create_index(op.f('ix_partner_webhook_delivery_status'), 'partner_webhook_delivery', ['status'], unique=False)
    op.create_index(op.f('ix_partner_webhook_delivery_webhook_id'), 'partner_webhook_delivery', ['webhook_id'], unique=False)
    op.create_table('unit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=64), nullable=True),
    sa.Column('to_status', sa.String(length=64), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_unit_event_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_event'))
    )
    op.create_index(op.f('ix_unit_event_unit_id'), 'unit_event', ['unit_id'], unique=False)
    op.create_table('work_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=True),
    sa.Column('pages', sa.Integer(), nullable=True),
    sa.Column('rendered_at', sa.DateTime(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_work_order_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_order')),
    sa.UniqueConstraint('unit_id', name=op.f('uq_work_order_unit_id'))
    )


def downgrade():
    op.drop_table('work_order')
    op.drop_index(op.f('ix_unit_event_unit_id'), table_name='unit_event')
    op.drop_table('unit_event')
    op.drop_index(op.f('ix_partner_webhook_delivery_webhook_id'), table_name='partner_webhook_delivery')
    op.drop_index(op.f('ix_partner_webhook_delivery_status'), table_name='partner_webhook_delivery')
    op.drop_index(op.f('ix_partner_webhook_delivery_next_attempt_at'), table_name='partner_webhook_delivery')
    op.drop_table('partner_webhook_delivery')
    op.drop_index(op.f('ix_unit_status'), table_name='unit')
    op.drop_index(op.f('ix_unit_promised_date'), table_name='unit')
    op.drop_index(op.f('ix_unit_product_id'), table_name='unit')
    op.drop_index(op.f('ix_unit_order_id'), table_name='unit')
    op.drop_table('unit')
    op.drop_index(op.f('ix_partner_webhook_partner_id'), table_name='partner_webhook')
    op.drop_table('partner_webhook')
    op.drop_index(op.f('ix_partner_staff_partner_id'), table_name='partner_staff')
    op.drop_table('partner_staff')
    op.drop_index(op.f('ix_partner_api_key_partner_id'), table_name='partner_api_key')
    op.drop_table('partner_api_key')
    op.drop_table('idempotency_record')
    op.drop_table('user')
    op.drop_table('spec_source')
    op.drop_table('partner')
    op.drop_index(op.f('ix_order_partner_id'), table_name='order')
    op.drop_table('order')
    op.drop_table('material_stock')
    op.drop_table('draft')
    op.drop_table('capacity_booking')
