"""The long-running commands: `serve` (gunicorn), `worker` (Celery render worker) and `run`
(Flask's development server). Each refuses to start on an out-of-date database schema."""
from __future__ import annotations

import os

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo, with_appcontext
from flask.cli import run_command as flask_run


def require_schema(app: Flask) -> None:
    """Stop the command with the schema's message (what it is, what it should be, what to run)."""
    from .schema import SchemaError, require_current_schema

    try:
        require_current_schema(app)
    except SchemaError as exc:
        raise click.ClickException(str(exc))


def _checked_run(**_params) -> None:
    ctx = click.get_current_context()
    require_schema(ctx.ensure_object(ScriptInfo).load_app())
    ctx.forward(flask_run)


run = click.Command(
    "run", params=flask_run.params, callback=_checked_run,
    help=f"{flask_run.help}\n\nRefuses to start unless the database schema is current.",
    short_help="Run the development server.")


def default_workers() -> int:
    """One worker per core, plus one to keep the cores busy while a request waits on PostgreSQL.

    A request is a few milliseconds of CPU and a few short round trips, not gunicorn's usual
    I/O-bound request that its rule of thumb (2 x cores + 1) is for: more workers than that
    only share the cores more finely and spend more CPU a request (docs/load.md: on two cores,
    three workers placed more orders per second than five in six of seven alternating runs).
    """
    return (os.cpu_count() or 1) + 1


@click.command("serve")
@click.option("--bind", "-b", metavar="HOST:PORT",
              help="Address to listen on [env CONFIGURATOR_SERVE_BIND; 127.0.0.1:8000].")
@click.option("--workers", "-w", type=click.IntRange(min=1),
              help="Worker processes [env CONFIGURATOR_SERVE_WORKERS; cores + 1].")
@click.option("--threads", type=click.IntRange(min=1),
              help="Threads per worker [env CONFIGURATOR_SERVE_THREADS; 1].")
@click.option("--timeout", type=click.IntRange(min=1),
              help="Seconds before a hung worker is killed [env CONFIGURATOR_SERVE_TIMEOUT; 60].")
@click.option("--access-log/--no-access-log", default=True, show_default=True,
              help="One line per request on standard output.")
@with_appcontext
def serve(bind, workers, threads, timeout, access_log) -> None:
    """Serve the app with gunicorn (production): stateless workers, run as many as you like."""
    cfg = current_app.config
    require_schema(current_app._get_current_object())
    options = {
        "bind": [bind or cfg["SERVE_BIND"]],
        "workers": workers or cfg["SERVE_WORKERS"] or default_workers(),
        "threads": threads or cfg["SERVE_THREADS"],
        "timeout": timeout or cfg["SERVE_TIMEOUT"],
        "accesslog": "-" if access_log else None,
        "errorlog": "-",
        "proc_name": "configurator",
        # No per-user control socket (~/.gunicorn/gunicorn.ctl): several servers on one host
        # would share it; we manage gunicorn with signals.
        "control_socket_disable": True,
    }
    click.echo(f"serving on {options['bind'][0]} with {options['workers']} workers x "
               f"{options['threads']} threads", err=True)
    if str(cfg["RATELIMIT_STORAGE_URI"]).startswith("memory:"):
        click.echo("warning: rate limits are counted per worker process; to count them once "
                   "for all workers and hosts use a Redis broker (CONFIGURATOR_BROKER_URL) or set "
                   "CONFIGURATOR_RATELIMIT_STORAGE_URI=redis://...",
                   err=True)
    _gunicorn(options).run()


def _gunicorn(options: dict):
    """gunicorn with our options; each worker builds the app from `configurator.wsgi`."""
    from gunicorn.app.base import BaseApplication  # imported here: the CLI starts faster

    class Server(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            from .wsgi import app

            return app

    return Server()


@click.command("worker")
@click.option("--concurrency", "-c", type=click.IntRange(min=1),
              help="Render processes [number of cores].")
@click.option("--loglevel", "-l", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"]))
@with_appcontext
def worker(concurrency, loglevel) -> None:
    """Start a Celery render worker for the work-order queue (needs CONFIGURATOR_BROKER_URL)."""
    from .workorders import tasks

    app = current_app._get_current_object()
    if not app.config.get("BROKER_URL"):
        raise click.ClickException(
            "CONFIGURATOR_BROKER_URL is not set: a render worker takes work orders from a "
            "broker, e.g. CONFIGURATOR_BROKER_URL=redis://localhost:6379/0 (set the same URL for "
            "the web app). Without a broker the web app renders in-process and needs no worker.")
    require_schema(app)
    tasks.init_app(app)
    queue = app.config.get("RENDER_QUEUE") or "workorders"
    argv = ["worker", f"--queues={queue}", f"--loglevel={loglevel}", "--hostname=render@%h"]
    if concurrency:
        argv.append(f"--concurrency={concurrency}")
    tasks.celery.worker_main(argv)
