"""JSON endpoints the shop's page calls as the shopper types (backed by `propagate`)."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")
