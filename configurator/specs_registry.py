"""Flask glue for the loaded specs: the current catalog, and any older version an order pinned."""
from __future__ import annotations

from flask import Flask, current_app

from .domain.loader import Catalog, load_product_text, load_specs
from .domain.model import ProductSpec


def init_registry(app: Flask) -> None:
    """Load `SPECS_DIR` once at start; a broken spec stops the app with a clear message."""
    app.extensions["catalog"] = load_specs(app.config["SPECS_DIR"])
    app.extensions["spec_versions"] = {}


def catalog() -> Catalog:
    return current_app.extensions["catalog"]


def spec_for_version(product_id: str, version: str) -> ProductSpec:
    """The spec an order was validated against: the current one, or its stored source."""
    current = catalog().products.get(product_id)
    if current is not None and current.version == version:
        return current
    cache = current_app.extensions["spec_versions"]
    if version not in cache:
        from .extensions import db
        from .models import SpecSource

        source = db.session.get(SpecSource, version)
        if source is None:
            raise LookupError(f"spec version {version} of {product_id!r} is not stored")
        cache[version] = load_product_text(
            source.product_text, source.line_text, f"{product_id}@{version}")
    return cache[version]


def remember_spec_version(spec: ProductSpec) -> None:
    """Store the source of `spec` under its version (once) inside the caller's transaction."""
    from .extensions import db
    from .models import SpecSource

    if db.session.get(SpecSource, spec.version) is None:
        db.session.add(SpecSource(
            version=spec.version, product_id=spec.id,
            product_text=spec.source_text, line_text=spec.line.source_text))
