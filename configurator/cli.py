"""The `configurator` command: spec tools without an app, app commands through Flask's CLI."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import FlaskGroup

from .cli_serve import run
from .config import DEFAULTS


def _create_app(*_args) -> Flask:
    from . import create_app
    from .domain.loader import SpecError

    try:
        return create_app()
    except SpecError as exc:
        raise click.ClickException(
            f"the specs have problems (run `configurator specs check`):\n{exc}")


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False,
             load_dotenv=False, set_debug_flag=False)
def main() -> None:
    """C2B order configurator."""


main.add_command(run)  # Flask's `run`, refusing an out-of-date database schema


def _specs_dir() -> str:
    return os.environ.get("CONFIGURATOR_SPECS_DIR") or str(DEFAULTS["SPECS_DIR"])


@main.group(cls=click.Group)
def specs() -> None:
    """Product specifications in specs/."""


@specs.command("list")
def specs_list() -> None:
    """Print one product id per line."""
    from .domain.loader import load_specs

    for product_id in sorted(load_specs(_specs_dir()).products):
        click.echo(product_id)


@specs.command("check")
def specs_check() -> None:
    """Check every spec; one line per problem, non-zero exit if any."""
    from .domain.loader import check_specs

    problems = check_specs(_specs_dir())
    for problem in problems:
        click.echo(problem)
    if problems:
        sys.exit(1)
    click.echo("all specs are valid", err=True)


def _load_design(product: str, design_path: str):
    from .domain.loader import SpecError, load_specs

    try:
        spec = load_specs(_specs_dir()).products[product]
    except KeyError:
        raise click.BadParameter(f"no product {product!r} in {_specs_dir()}", param_hint="PRODUCT")
    except SpecError as exc:
        raise click.ClickException(str(exc))
    try:
        design = json.loads(Path(design_path).read_text())
    except (OSError, ValueError) as exc:
        raise click.BadParameter(f"cannot read design JSON: {exc}", param_hint="DESIGN")
    return spec, design


@main.command("validate", with_appcontext=False)
@click.argument("product")
@click.argument("design_path", metavar="DESIGN.json")
def validate_command(product: str, design_path: str) -> None:
    """Validate a design; JSON out, exit 1 when invalid."""
    from .domain.validation import validate

    spec, design = _load_design(product, design_path)
    result = validate(spec, design)
    click.echo(json.dumps(result.as_dict(), indent=2))
    sys.exit(0 if result.valid else 1)


@main.command("propagate", with_appcontext=False)
@click.argument("product")
@click.argument("design_path", metavar="DESIGN.json")
def propagate_command(product: str, design_path: str) -> None:
    """What is still possible for a partial design, and why not; JSON out."""
    from .domain.engine import propagate

    spec, design = _load_design(product, design_path)
    click.echo(json.dumps(propagate(spec, design).as_dict(), indent=2))


def register_cli(app: Flask) -> None:
    """App-bound commands (database, users, demo data...) from their own modules."""
    from . import cli_app

    cli_app.register(app)


if __name__ == "__main__":
    main()
