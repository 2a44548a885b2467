"""Typed SQLAlchemy 2.x models; importing this package registers every table."""
from .catalog import CapacityBooking, MaterialStock, SpecSource  # noqa: F401
from .orders import Draft, Order, Unit, UnitEvent, WorkOrder  # noqa: F401
from .users import User  # noqa: F401
from .partners import (  # noqa: F401
    ApiKey, IdempotencyRecord, Partner, PartnerStaff, Webhook, WebhookDelivery)
from .feedback import RemakeRequest, UnitFeedback  # noqa: F401
from .groups import GroupMember, GroupOrder  # noqa: F401
