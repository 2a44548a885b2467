"""Partner intake: form posts authenticated by API key, and the partner staff's page."""
from flask import Blueprint

bp = Blueprint("partners", __name__, url_prefix="/partners")
