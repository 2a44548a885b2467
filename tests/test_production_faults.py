"""No loss: a render worker killed mid-job, a database that restarts under load, a database that
cannot be reached. Real workers on Redis, a private PostgreSQL cluster, real HTTP."""
from __future__ import annotations

import glob
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from sqlalchemy import select, update

from configurator.extensions import db as _db
from configurator.models import Order, WorkOrder
from configurator.models._types import utcnow
from configurator.services import stock
from configurator.workorders.storage import storage
from partners_support import FORM, SPECS as PARTNER_SPECS, make_partner
from workorders_support import pdf_text, place

REDIS = "redis://127.0.0.1:6379/15"
VISIBILITY_TIMEOUT = 2  # seconds before Redis hands a dead worker's task to another


def _port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- the database cannot be reached: 503, try again -----------------------------------------

@pytest.fixture
def unreachable_app(app_config):
    from configurator import create_app

    app_config["DATABASE_URL"] = (
        f"postgresql+psycopg://postgres@127.0.0.1:{_free_port()}/nothing?connect_timeout=2")
    app_config["SPECS_DIR"] = str(PARTNER_SPECS)
    return create_app(app_config)


def test_an_unreachable_database_gets_503_try_again_on_the_api(unreachable_app):
    client = unreachable_app.test_client()
    answer = client.post("/partners/v1/orders", data=FORM,
                         headers={"Authorization": "Bearer pk_live_whatever"})
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    assert answer.json["status"] == 503 and "try again" in answer.json["message"]
    answer = client.post("/api/products/tee/propagate", json={"options": {}})
    assert answer.status_code == 503 and "try again" in answer.json["message"]


def test_an_unreachable_database_gets_a_503_page_not_a_traceback(unreachable_app):
    answer = unreachable_app.test_client().get("/d/" + "a" * 43)  # a draft link: needs the DB
    page = answer.get_data(as_text=True)
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    assert "Please try again in a moment" in page and "could not reach our database" in page
    assert "Traceback" not in page and "psycopg" not in page


@pytest.fixture
def partner_app(app_config):
    from configurator import create_app
    from conftest import TEST_DATABASE_URL

    if not (TEST_DATABASE_URL or "").startswith("postgresql"):
        pytest.skip("needs PostgreSQL (CONFIGURATOR_TEST_DATABASE_URL): a backend to terminate")
    app_config.update(SPECS_DIR=str(PARTNER_SPECS), WEBHOOK_DELIVERY="manual",
                      PARTNER_RATE_LIMIT="100000 per minute")
    app = create_app(app_config)
    with app.app_context():
        _db.create_all()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.drop_all()


def test_a_connection_lost_while_the_key_is_looked_up_gets_503_not_500(partner_app):
    """The database drops the connection in the middle of the API key's lookup (its backend is
    terminated just as the statement goes out): the partner is told to try again, and the next
    post is placed. The lookup runs before the rate limit asks for the partner; inside the
    limiter the error was taken for the limit store failing and retried on the broken session."""
    import psycopg
    from sqlalchemy import create_engine, text

    partner = make_partner(partner_app, "Acme Tailors")
    killer = create_engine(partner_app.config["SQLALCHEMY_DATABASE_URI"])
    killed = []
    execute = psycopg.Cursor.execute

    def terminate_mid_lookup(cursor, query, *args, **kwargs):
        # psycopg's own cursor: the lookup runs there (services/direct.py), not through SQLAlchemy
        if "partner_api_key.key_hash" in str(query) and not killed:
            with killer.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"),
                              {"pid": cursor.connection.info.backend_pid})
            killed.append(True)
        return execute(cursor, query, *args, **kwargs)

    client = partner_app.test_client()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(psycopg.Cursor, "execute", terminate_mid_lookup)
        try:
            answer = client.post("/partners/v1/orders", data=FORM, headers=partner.headers)
        finally:
            killer.dispose()
    assert killed
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5", answer.data[:300]
    assert "try again" in answer.json["message"]
    assert client.post("/partners/v1/orders", data=FORM, headers=partner.headers).status_code == 201


def _count_pings(monkeypatch, app) -> list:
    with app.app_context():
        dialect = _db.engine.dialect
    pings: list = []
    real = dialect.do_ping
    monkeypatch.setattr(dialect, "do_ping", lambda conn: pings.append(conn) or real(conn))
    return pings


def test_a_connection_in_steady_use_is_not_pinged_before_each_request(app, monkeypatch):
    """Pinging at every checkout is a round trip a transaction; one back within seconds is not
    pinged (configurator/pool.py), one back after the idle time is."""
    pings = _count_pings(monkeypatch, app)
    client = app.test_client()
    for _ in range(3):
        assert client.get("/d/" + "a" * 43).status_code == 404  # a draft lookup: one query
    assert pings == []
    app.config["DATABASE_PING_AFTER_IDLE"] = 0  # read at checkout: now every reuse is pinged
    for _ in range(2):
        assert client.get("/d/" + "a" * 43).status_code == 404
    assert len(pings) == 2


@pytest.fixture
def idle_after_200ms(app_config):
    app_config["DATABASE_PING_AFTER_IDLE"] = 0.2


def test_a_connection_dropped_while_idle_is_replaced_before_use(
        idle_after_200ms, partner_app, monkeypatch):
    """The database dropped the pooled connection during a quiet spell (a restart, a
    firewall): the ping at checkout finds it dead, a new one is opened, the post is placed."""
    from sqlalchemy import create_engine, text

    pings = _count_pings(monkeypatch, partner_app)
    partner = make_partner(partner_app, "Acme Tailors")
    client = partner_app.test_client()
    assert client.post("/partners/v1/orders", data=FORM, headers=partner.headers).status_code == 201
    killer = create_engine(partner_app.config["SQLALCHEMY_DATABASE_URI"])
    with killer.connect() as other:
        dropped = other.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
    killer.dispose()
    assert dropped >= 1
    time.sleep(0.3)
    answer = client.post("/partners/v1/orders", data={**FORM, "partner_reference": "PO-2"},
                         headers=partner.headers)
    assert answer.status_code == 201, answer.data[:300]
    assert pings


# -- a render worker killed mid-job ---------------------------------------------------------

@pytest.fixture
def worker_config(app_config, tmp_path):
    if not _port_open(6379):
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    app_config.update(BROKER_URL=REDIS, RENDER_QUEUE=f"workorders-test-{secrets.token_hex(4)}",
                      BROKER_VISIBILITY_TIMEOUT=VISIBILITY_TIMEOUT,
                      RENDER_TEST_HOLD=str(tmp_path / "hold"))
    yield app_config
    import redis

    redis.Redis.from_url(REDIS).delete(app_config["RENDER_QUEUE"])


@pytest.fixture
def workers(worker_config, tmp_path):
    """Start Celery workers on the test's queue; all are stopped at the end."""
    started: list[subprocess.Popen] = []

    def start(pool: str = "solo") -> subprocess.Popen:
        env = {**os.environ, **{f"CONFIGURATOR_{k}": str(worker_config[k]) for k in (
            "BROKER_URL", "RENDER_QUEUE", "DATABASE_URL", "STORAGE_DIR", "SPECS_DIR",
            "BROKER_VISIBILITY_TIMEOUT", "RENDER_TEST_HOLD")}, "CONFIGURATOR_SECRET_KEY": "test"}
        log = tmp_path / f"worker-{len(started)}.log"
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("celery")), "-A", "configurator.workorders.tasks",
             "worker", f"--pool={pool}", "--concurrency=1", "-Q", worker_config["RENDER_QUEUE"],
             "--without-mingle", "--without-gossip", "--without-heartbeat", "-l", "warning"],
            env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb"))
        process.log = log
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


def _work_order(db, unit_id: int) -> WorkOrder:
    _db.session.expire_all()
    work_order = db.session.execute(
        select(WorkOrder).where(WorkOrder.unit_id == unit_id)).scalar_one()
    db.session.rollback()
    return work_order


def _wait_for(db, unit_id: int, states: tuple[str, ...], worker) -> WorkOrder:
    for _ in range(1200):
        work_order = _work_order(db, unit_id)
        if work_order.status in states:
            return work_order
        assert worker.poll() is None, worker.log.read_text()
        time.sleep(0.1)
    raise AssertionError(f"still {work_order.status}: {worker.log.read_text()}")


def _stored_files() -> list[Path]:
    root = storage().root
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _assert_rendered_once(db, unit, worker) -> None:
    work_order = _wait_for(db, unit.id, ("done", "failed"), worker)
    assert (work_order.status, work_order.renders, work_order.attempts) == ("done", 1, 2)
    assert _stored_files() == [storage().path(work_order.path)]  # no partial file left
    text, _pages = pdf_text(storage().read(work_order.path))
    assert unit.code in text
    time.sleep(VISIBILITY_TIMEOUT + 2)  # past another redelivery: nothing comes a third time
    assert _work_order(db, unit.id).renders == 1


@pytest.mark.redis
@pytest.mark.slow
def test_a_worker_killed_mid_render_leaves_the_work_order_rendered_once_after_a_restart(
        worker_config, workers, app, db, catalog):  # the worker's settings before the app
    Path(worker_config["RENDER_TEST_HOLD"]).touch()
    first = workers()
    unit = place(catalog).units[0]
    _wait_for(db, unit.id, ("rendering",), first)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    work_order = _work_order(db, unit.id)
    assert (work_order.status, work_order.renders) == ("rendering", 0) and not _stored_files()

    Path(worker_config["RENDER_TEST_HOLD"]).unlink()
    _assert_rendered_once(db, unit, workers())


@pytest.mark.redis
@pytest.mark.slow
def test_a_pool_process_killed_mid_render_is_replaced_and_the_task_run_again(
        worker_config, workers, app, db, catalog):
    Path(worker_config["RENDER_TEST_HOLD"]).touch()
    worker = workers(pool="prefork")
    unit = place(catalog).units[0]
    _wait_for(db, unit.id, ("rendering",), worker)
    (child,) = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
    os.kill(int(child), signal.SIGKILL)
    Path(worker_config["RENDER_TEST_HOLD"]).unlink()
    _assert_rendered_once(db, unit, worker)


def test_render_pending_takes_over_work_orders_abandoned_mid_render(app, db, catalog):
    first, second = (place(catalog).units[0] for _ in range(2))
    for unit, age in ((first, timedelta(hours=2)), (second, timedelta(seconds=5))):
        storage().path(unit.work_order.path).unlink()
        db.session.execute(update(WorkOrder).where(WorkOrder.unit_id == unit.id).values(
            status="rendering", task_id="a-dead-worker's-task", renders=0, path=None,
            updated_at=utcnow() - age))
    db.session.commit()
    result = app.test_cli_runner().invoke(
        args=["workorders", "render-pending", "--stale-after", "600"])
    assert result.exit_code == 0, result.output
    assert "1 work order(s) queued (0 pending, 0 failed, 1 abandoned mid-render)" in result.output
    assert (_work_order(db, first.id).status, _work_order(db, first.id).renders) == ("done", 1)
    assert _work_order(db, second.id).status == "rendering"  # its worker may still be at it


# -- the database restarts under load -------------------------------------------------------

def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@pytest.fixture
def private_postgres():
    """A PostgreSQL cluster of our own in a temporary folder, which we may restart at will."""
    bindir = _postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the cluster as the postgres user
        try:
            import pwd

            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no postgres user to own a cluster")
        as_user = ["runuser", "-u", "postgres", "--"]
    datadir = tempfile.mkdtemp(prefix="configurator-pg-")
    if as_user:
        os.chown(datadir, owner.pw_uid, owner.pw_gid)
    port = _free_port()

    def pg(*args: str) -> None:
        subprocess.run([*as_user, *args], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=120)

    def pg_ctl(*args: str) -> None:
        pg(str(bindir / "pg_ctl"), "-D", datadir, "-l", f"{datadir}/log", "-w", *args)

    pg(str(bindir / "initdb"), "-D", datadir, "-A", "trust", "-U", "postgres", "--no-sync",
       "-E", "UTF8")
    options = f"-p {port} -k {datadir} -c listen_addresses=127.0.0.1 -c max_connections=50"
    pg_ctl("-o", options, "start")
    try:
        yield {"url": f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres",
               "restart": lambda mode: pg_ctl("-o", options, "-m", mode, "restart")}
    finally:
        pg_ctl("-m", "immediate", "stop")
        shutil.rmtree(datadir, ignore_errors=True)


@pytest.fixture
def served_on_private_postgres(private_postgres, app_config):
    """The app on the private cluster, served by threaded werkzeug; renders are queued in
    memory (no worker), so requests measure ordering only."""
    from werkzeug.serving import make_server

    from configurator import create_app

    app_config.update(DATABASE_URL=private_postgres["url"], SPECS_DIR=str(PARTNER_SPECS),
                      BROKER_URL="memory://", PARTNER_RATE_LIMIT="100000 per minute",
                      WEBHOOK_DELIVERY="manual")
    app = create_app(app_config)
    with app.app_context():
        _db.create_all()
        tee = app.extensions["catalog"].products["tee"]
        for material in tee.materials:  # never the reason an order is refused here
            stock.set_on_hand(tee, material.id, Decimal(10**6))
        _db.session.commit()
    partner = make_partner(app, "Acme Tailors")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, partner, f"http://127.0.0.1:{server.server_port}", private_postgres["restart"]
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


@pytest.mark.slow
def test_a_database_restart_under_load_loses_no_accepted_order(served_on_private_postgres):
    app, partner, base, restart = served_on_private_postgres
    answers: list[tuple[str, int, dict | None, str]] = []
    stop = threading.Event()

    def post_orders(client: int) -> None:
        with requests.Session() as http:
            for n in range(10_000):
                if stop.is_set():
                    return
                reference = f"PO-{client}-{n}"
                response = http.post(f"{base}/partners/v1/orders", headers=partner.headers,
                                     data={**FORM, "partner_reference": reference}, timeout=60)
                body = response.json() if response.headers.get(
                    "Content-Type", "").startswith("application/json") else None
                answers.append((reference, response.status_code, body,
                                response.headers.get("Retry-After", "")))

    clients = [threading.Thread(target=post_orders, args=(c,)) for c in range(6)]
    for client in clients:
        client.start()
    time.sleep(3)
    restart("fast")  # a clean restart: sessions are told to go, then it comes back
    time.sleep(3)
    restart("immediate")  # as if PostgreSQL crashed: recovery from its write-ahead log
    back = len(answers)
    time.sleep(4)
    stop.set()
    for client in clients:
        client.join(timeout=60)

    statuses = {status for _, status, _, _ in answers}
    assert statuses <= {201, 503}, [a for a in answers if a[1] not in (201, 503)][:3]
    refused = [a for a in answers if a[1] == 503]
    assert refused, "no request ever met the restart; the test proved nothing"
    for _reference, _status, body, retry_after in refused:
        assert body["status"] == 503 and "try again" in body["message"] and retry_after == "5"
    accepted = {reference: body for reference, status, body, _ in answers if status == 201}
    assert any(status == 201 for _, status, _, _ in answers[back:])  # and it came back

    with app.app_context():
        stored = {o.partner_reference: o for o in _db.session.execute(select(Order)).scalars()}
        assert set(accepted) <= set(stored)  # every answered order is there
        assert set(stored) <= {reference for reference, *_ in answers}
        for reference, body in accepted.items():
            assert stored[reference].reference == body["reference"]
        _assert_nothing_half_written(app, stored.values())


def _assert_nothing_half_written(app, orders) -> None:
    """Each stored order is whole, and stock and capacity hold exactly what its units took."""
    from configurator.models import CapacityBooking, MaterialStock
    from configurator.services import capacity

    reserved: dict[tuple[str, str], Decimal] = {}
    minutes: dict[str, int] = {}
    for order in orders:
        assert order.units and order.total == sum(u.price for u in order.units)
        needs: dict[tuple[str, str], Decimal] = {}
        for unit in order.units:
            assert unit.work_order is not None and unit.events and unit.code.startswith("U-")
            for line in unit.bill:
                key = (unit.product_id, line["material"])
                needs[key] = needs.get(key, Decimal(0)) + Decimal(line["quantity"])
            for station, booked in capacity.station_minutes(unit.routing):
                minutes[station] = minutes.get(station, 0) + booked
        for key, quantity in needs.items():
            reserved[key] = reserved.get(key, Decimal(0)) + stock.round_up(quantity)
    rows = _db.session.execute(select(MaterialStock)).scalars()
    assert {(r.product_id, r.material_id): r.reserved for r in rows if r.reserved} == reserved
    booked: dict[str, int] = {}
    for row in _db.session.execute(select(CapacityBooking)).scalars():
        booked[row.station_id] = booked.get(row.station_id, 0) + row.minutes
    assert {k: v for k, v in booked.items() if v} == minutes
