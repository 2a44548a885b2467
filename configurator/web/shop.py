"""The shopper's pages: catalog, configurator, drafts, checkout, tracking."""
from flask import Blueprint, render_template

from ..specs_registry import catalog

bp = Blueprint("shop", __name__)


@bp.get("/")
def index():
    return render_template("shop/catalog.html", products=list(catalog().products.values()))
