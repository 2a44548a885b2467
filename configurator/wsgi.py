"""The WSGI entry point for production servers: `gunicorn configurator.wsgi:app`.

`configurator serve` runs gunicorn on this module. Importing it refuses to build the app on an
out-of-date database schema, so a worker never serves pages the tables cannot back.
"""
from . import create_app
from .schema import require_current_schema

app = create_app()
require_current_schema(app)
