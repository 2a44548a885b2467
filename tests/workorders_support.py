"""Helpers for the work-order and planner tests: orders through the real order service,
planners through the real model, and reading PDFs back."""
from __future__ import annotations

import io
from datetime import date

from pypdf import PdfReader

from configurator.extensions import db
from configurator.models import User
from configurator.services.orders import CustomerDetails, UnitRequest, place_order
from conftest import complete_design, csrf_from

MONDAY = date(2026, 3, 2)
PASSWORD = "correct horse battery"


def place(catalog, product="suit", n=1, customer=None, options=None, texts=None, label="",
          today=MONDAY):
    spec = catalog.products[product]
    design = complete_design(spec, options)
    if texts:
        design["texts"].update(texts)
    customer = customer or CustomerDetails("Ana Sousa", "ana@example.com", "Rua 1\nPorto")
    return place_order(customer, [UnitRequest(product, design, label)] * n, today=today)


def make_user(email="planner@example.com", role="planner") -> User:
    user = User(email=email, role=role, name="P")
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.commit()
    return user


def log_in(client, email: str = "planner@example.com"):
    """Log a planner in through the real form (with its CSRF token); the login's response."""
    page = client.get("/planner/login")
    return client.post("/planner/login", data={
        "email": email, "password": PASSWORD, "csrf_token": csrf_from(page.data)})


def pdf_text(data: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages), len(reader.pages)


def squash(text: str) -> str:
    """PDF text extraction breaks lines where the layout wraps: compare without whitespace."""
    return "".join(text.split())
