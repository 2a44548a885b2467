"""The planner's console, behind a login."""
from flask import Blueprint

bp = Blueprint("planner", __name__, url_prefix="/planner")
