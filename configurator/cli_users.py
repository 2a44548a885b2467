"""`configurator users ...`: planners and admins who log in to the console."""
from __future__ import annotations

import click
from sqlalchemy import select

from .models.users import ROLES


@click.group("users")
def users() -> None:
    """Planner and admin accounts."""


@users.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), default="planner", show_default=True)
@click.option("--name", default="")
@click.password_option(help="Prompted (hidden, twice) when not given.")
def create_user(email: str, role: str, name: str, password: str) -> None:
    """Create a planner (or admin) who logs in with EMAIL."""
    from .extensions import db
    from .models import User

    email = email.strip().lower()
    if "@" not in email:
        raise click.BadParameter("an email address is needed", param_hint="EMAIL")
    if len(password) < 10:
        raise click.BadParameter("use at least 10 characters", param_hint="--password")
    if db.session.execute(select(User).where(User.email == email)).scalar_one_or_none():
        raise click.ClickException(
            f"{email} exists already; use `configurator users set-password`.")
    user = User(email=email, name=name, role=role)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"{role} {email} created")


@users.command("set-password")
@click.argument("email")
@click.password_option()
def set_password(email: str, password: str) -> None:
    """Give EMAIL a new password."""
    from .extensions import db
    from .models import User

    user = db.session.execute(
        select(User).where(User.email == email.strip().lower())).scalar_one_or_none()
    if user is None:
        raise click.ClickException(f"there is no user {email}")
    user.set_password(password)
    db.session.commit()
    click.echo(f"password of {user.email} changed")


@users.command("list")
def list_users() -> None:
    """One line per user: email, role, active."""
    from .extensions import db
    from .models import User

    for user in db.session.execute(select(User).order_by(User.email)).scalars():
        click.echo(f"{user.email}\t{user.role}\t{'active' if user.active else 'inactive'}")


def ensure_demo_planner(email: str = "planner@example.com",
                        password: str = "planner-demo-1") -> bool:
    """The demo data's planner login (README); True when created."""
    from .extensions import db
    from .models import User

    if db.session.execute(select(User).where(User.email == email)).scalar_one_or_none():
        return False
    user = User(email=email, name="Demo planner", role="planner")
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return True
