"""The production commands as an operator runs them, in subprocesses: `configurator serve`
(gunicorn) answers over HTTP on a migrated database and refuses an un-migrated one; `run`, the
WSGI module and `worker` refuse too; `worker` says what is missing without a broker."""
from __future__ import annotations

import html
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from configurator.config import ROOT
from conftest import redis_up

pytestmark = pytest.mark.slow
UPGRADE_HINT = "run `configurator init-db`"


def configurator_command() -> list[str]:
    """The installed console script beside this Python, else the module."""
    script = Path(sys.executable).with_name("configurator")
    return [str(script)] if script.exists() else [sys.executable, "-m", "configurator.cli"]


def command_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """The environment of a fresh deployment: a SQLite file in `tmp_path`, nothing inherited."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFIGURATOR_")}
    env.update({
        "CONFIGURATOR_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "CONFIGURATOR_STORAGE_DIR": str(tmp_path / "storage"),
        "CONFIGURATOR_SECRET_KEY": "serve-test-secret",
        "CONFIGURATOR_SPECS_DIR": str(ROOT / "specs"),
    })
    env.update({f"CONFIGURATOR_{k}": v for k, v in settings.items()})
    return env


def run_configurator(env: dict, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*configurator_command(), *args], env=env, capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, server: subprocess.Popen, seconds: float = 60) -> requests.Response:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the server exited ({server.returncode}): "
                                 f"{server.stderr.read()}")
        try:
            return requests.get(url, timeout=5)
        except requests.ConnectionError:
            time.sleep(0.2)
    raise AssertionError(f"nothing answered on {url} within {seconds} s")


@pytest.fixture
def migrated(tmp_path) -> dict[str, str]:
    env = command_env(tmp_path)
    done = run_configurator(env, "init-db")
    assert done.returncode == 0, done.stderr
    assert "schema created at revision" in done.stdout
    return env


def test_serve_answers_the_catalog_over_http_and_stops_on_sigterm(migrated, catalog):
    port = free_port()
    server = subprocess.Popen(
        [*configurator_command(), "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        env=migrated, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        page = wait_for_http(f"http://127.0.0.1:{port}/", server)
        assert page.status_code == 200
        assert page.headers["Server"] == "gunicorn"
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
        for spec in catalog.products.values():
            assert html.escape(spec.name) in page.text
    finally:
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=30)
    assert server.returncode == 0, err
    assert '"GET / HTTP/1.1" 200' in out  # the access log, on standard output


def test_serve_refuses_an_unmigrated_database_and_says_what_to_run(tmp_path):
    done = run_configurator(command_env(tmp_path), "serve", "--bind", f"127.0.0.1:{free_port()}")
    assert done.returncode != 0
    assert "The database is empty" in done.stderr and UPGRADE_HINT in done.stderr
    assert "Listening at" not in done.stderr


def test_serve_refuses_a_database_one_revision_behind(migrated):
    import sqlite3

    path = migrated["CONFIGURATOR_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as con:
        con.execute("UPDATE alembic_version SET version_num = 'a0ldrev1s10n'")
    done = run_configurator(migrated, "serve", "--bind", f"127.0.0.1:{free_port()}")
    assert done.returncode != 0
    assert "The database schema is at revision a0ldrev1s10n, the code needs " in done.stderr
    assert UPGRADE_HINT in done.stderr


def test_the_development_server_refuses_an_unmigrated_database(tmp_path):
    done = run_configurator(command_env(tmp_path), "run", "--port", str(free_port()))
    assert done.returncode != 0
    assert "The database is empty" in done.stderr and UPGRADE_HINT in done.stderr


def test_the_wsgi_module_refuses_an_unmigrated_database(tmp_path):
    done = subprocess.run([sys.executable, "-c", "import configurator.wsgi"],
                          env=command_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "SchemaError: The database is empty" in done.stderr


def test_worker_without_a_broker_says_which_setting_is_missing(migrated):
    done = run_configurator(migrated, "worker")
    assert done.returncode != 0
    assert "CONFIGURATOR_BROKER_URL is not set" in done.stderr
    assert "redis://" in done.stderr


def test_worker_refuses_an_unmigrated_database(tmp_path):
    env = command_env(tmp_path, BROKER_URL="redis://127.0.0.1:6379/15")
    done = run_configurator(env, "worker")
    assert done.returncode != 0
    assert "The database is empty" in done.stderr and UPGRADE_HINT in done.stderr


PLACE_ORDER = """
from configurator import create_app
from configurator.demo import example_design
from configurator.services.orders import CustomerDetails, UnitRequest, place_order

app = create_app()
with app.app_context():
    spec = app.extensions["catalog"].products["suit"]
    order = place_order(CustomerDetails("Ana Sousa", "ana@example.com", "Rua 1\\nPorto"),
                        [UnitRequest("suit", example_design(spec))])
    print(order.units[0].id)
"""


def _work_order_status(env: dict, unit_id: int) -> tuple[str, str | None]:
    import sqlite3

    path = env["CONFIGURATOR_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as con:
        row = con.execute("SELECT status, path FROM work_order WHERE unit_id = ?",
                          (unit_id,)).fetchone()
    return row or ("missing", None)


@pytest.mark.redis
@pytest.mark.skipif(not redis_up(), reason="needs Redis on 127.0.0.1:6379")
def test_a_render_worker_renders_what_the_app_queues_on_redis(migrated, tmp_path):
    env = {**migrated, "CONFIGURATOR_BROKER_URL": "redis://127.0.0.1:6379/14",
           "CONFIGURATOR_RENDER_QUEUE": f"test-{tmp_path.name}-{os.getpid()}"}  # ours alone
    worker = subprocess.Popen([*configurator_command(), "worker", "--concurrency", "1"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, cwd=ROOT)
    try:
        placed = subprocess.run([sys.executable, "-c", PLACE_ORDER], env=env, cwd=ROOT,
                                capture_output=True, text=True, timeout=120)
        assert placed.returncode == 0, placed.stderr
        unit_id = int(placed.stdout.split()[-1])
        deadline = time.monotonic() + 120
        while _work_order_status(env, unit_id)[0] != "done" and time.monotonic() < deadline:
            assert worker.poll() is None, worker.stdout.read()
            time.sleep(0.3)
        status, key = _work_order_status(env, unit_id)
        assert status == "done"
        assert (tmp_path / "storage" / key).read_bytes().startswith(b"%PDF")
    finally:
        worker.send_signal(signal.SIGTERM)
        log = worker.communicate(timeout=60)[0]
    assert "render@" in log and "workorders.render" in log
