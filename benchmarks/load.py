"""Load: the app under gunicorn on PostgreSQL, driven over HTTP by locust (headless).

`./dev bench load` (or `python -m benchmarks load`):

1. drops and creates the PostgreSQL database `configurator_bench` (BENCH_PG_URL, default the
   local server), migrates it (`configurator init-db`), loads the demo data, adds a partner
   with an API key, plenty of stock, and a line with ample capacity (a copy of the specs);
2. starts `configurator serve` (gunicorn, BENCH_WORKERS processes x BENCH_THREADS threads) with
   a Redis broker, so work orders are queued for render workers instead of being rendered in
   the request (no worker runs: the benchmark measures ordering; the queue is emptied after);
3. warms the workers up, then runs locust with BENCH_USERS users (half shoppers going through
   the real forms with CSRF, half partner systems) for BENCH_SECONDS;
4. prints orders per second, p50 and p99 per endpoint, errors, the targets with ratios, where
   the machine's CPU went (gunicorn, PostgreSQL, locust, the rest), and checks that the
   database holds exactly the orders answered as created;
5. prints how fast the machine was before and after (the CPU of one `propagate` alone), the
   figure that compares runs on different machines.

BENCH_PROFILE=1 also samples one gunicorn worker with py-spy during the run and prints where
its time goes.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from benchmarks.load_watch import CpuWatch, engine_reference, print_profile, start_profiler
from configurator.cli_serve import default_workers

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
DATABASE = "configurator_bench"
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
USERS = int(os.environ.get("BENCH_USERS", "32"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "40"))
WARM_SECONDS = int(os.environ.get("BENCH_WARM_SECONDS", "10"))
WORKERS = int(os.environ.get("BENCH_WORKERS", str(default_workers())))  # as `configurator serve`
THREADS = int(os.environ.get("BENCH_THREADS", "1"))
PROFILE = os.environ.get("BENCH_PROFILE") == "1"
CLICKS = 3  # propagate calls per shop order
TARGET_ORDERS_PER_SECOND = 200
TARGET_PROPAGATE_P99_MS = 150


def main() -> None:
    missing = _missing_services()
    if missing:
        print(f"[load] skipped: {missing}")
        return
    scratch = Path(tempfile.mkdtemp(prefix="bench-load-"))
    queue = f"bench-{secrets.token_hex(4)}"
    reference = engine_reference()
    env = _environment(scratch, queue)
    try:
        _fresh_database()
        _run(["init-db"], env)
        _run(["demo-data"], env)
        scenario = _scenario(env, scratch)
        first_new_order = _max_order_id(env) + 1
        server = _server(env, scratch)
        with server as base:
            print(f"gunicorn: {WORKERS} workers x {THREADS} threads on {base}; "
                  f"locust: {USERS} users ({USERS // 2} shoppers, {USERS - USERS // 2} partner "
                  f"systems), {WARM_SECONDS} s warm-up then {SECONDS} s measured")
            _locust(base, scenario, scratch / "warm", WARM_SECONDS)
            profiler = (start_profiler(server.process.pid, scratch, SECONDS) if PROFILE
                        else None)
            cpu = CpuWatch(server.process.pid, SECONDS)
            stats = _locust(base, scenario, scratch / "run", SECONDS)
            if profiler is not None:
                print_profile(profiler, scratch)
        orders = _report(stats, scratch / "run")
        cpu.report(orders / SECONDS)
        _check_database(env, first_new_order, [scratch / "warm", scratch / "run"])
        print(f"machine: a propagate of the suit alone takes {reference:.2f} ms of CPU before the "
              f"run, {engine_reference():.2f} ms after (compare runs on other machines by it)")
    finally:
        _empty_queue(queue)
        shutil.rmtree(scratch, ignore_errors=True)


# -- setting up ---------------------------------------------------------------------------

def _missing_services() -> str | None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    try:
        import redis

        redis.Redis.from_url(REDIS, socket_connect_timeout=2).ping()
    except Exception as exc:  # any failure to reach it means: no Redis for the renders
        return f"Redis is not reachable at {REDIS} ({exc})"
    engine = create_engine(f"{PG_URL}/postgres", connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        return f"PostgreSQL is not reachable at {PG_URL} (set BENCH_PG_URL): {exc.orig}"
    finally:
        engine.dispose()
    return None


def _environment(scratch: Path, queue: str) -> dict[str, str]:
    specs = scratch / "specs"
    shutil.copytree(ROOT / "specs", specs)
    line = specs / "line.toml"
    # Ample capacity: the benchmark measures the server, not the factory filling up.
    line.write_text(re.sub(r"minutes_per_day = (\d+)",
                           lambda m: f"minutes_per_day = {int(m.group(1)) * 1000}",
                           line.read_text()))
    return {**os.environ,
            "CONFIGURATOR_DATABASE_URL": f"{PG_URL}/{DATABASE}",
            "CONFIGURATOR_SPECS_DIR": str(specs),
            "CONFIGURATOR_STORAGE_DIR": str(scratch / "storage"),
            "CONFIGURATOR_SECRET_KEY": secrets.token_hex(32),
            "CONFIGURATOR_BROKER_URL": REDIS,
            "CONFIGURATOR_RENDER_QUEUE": queue,
            "CONFIGURATOR_PARTNER_RATE_LIMIT": "1000000 per minute",
            # every simulated shopper comes from 127.0.0.1: the per-address limit of the live
            # endpoint would count 16 shoppers as one
            "CONFIGURATOR_PROPAGATE_RATE_LIMIT": "1000000 per minute",
            "CONFIGURATOR_WEBHOOK_DELIVERY": "manual"}


def _fresh_database() -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(f"{PG_URL}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {DATABASE}"))
    engine.dispose()


def _run(args: list[str], env: dict[str, str]) -> None:
    subprocess.run([str(BIN / "configurator"), *args], env=env, check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)


def _scenario(env: dict[str, str], scratch: Path) -> Path:
    """A partner with a key, stock for thousands of orders, and the designs the users send."""
    script = """
import json, sys
from decimal import Decimal
from benchmarks.engine import realistic_designs
from configurator import create_app
from configurator.demo import example_design
from configurator.extensions import db
from configurator.services import partners, stock

app = create_app()
with app.app_context():
    products = app.extensions["catalog"].products
    for spec in products.values():
        for material in spec.materials:
            stock.set_on_hand(spec, material.id, Decimal(10**7))
    partner = partners.create_partner("Load Test Tailors", "ops@load-test.example")
    key = partners.issue_key(partner, "load benchmark").secret
    db.session.commit()
    print(json.dumps({
        "partner_key": key, "clicks": %d,
        "shop_products": sorted(products), "partner_products": sorted(products),
        "designs": {pid: example_design(spec) for pid, spec in products.items()},
        "partials": {pid: [{**d, "texts": {}} for d in realistic_designs(spec, 60)]
                     for pid, spec in products.items()}}))
""" % CLICKS
    out = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    path = scratch / "scenario.json"
    path.write_text(out.strip().splitlines()[-1])
    return path


def _max_order_id(env: dict[str, str]) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(env["CONFIGURATOR_DATABASE_URL"])
    with engine.connect() as connection:
        value = connection.execute(text('SELECT coalesce(max(id), 0) FROM "order"')).scalar()
    engine.dispose()
    return value


class _server:
    """`configurator serve` on a free port, stopped (and waited for) on exit."""

    def __init__(self, env: dict[str, str], scratch: Path):
        self.env, self.log = env, scratch / "gunicorn.log"

    def __enter__(self) -> str:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.process = subprocess.Popen(
            [str(BIN / "configurator"), "serve", "--bind", f"127.0.0.1:{port}",
             "--workers", str(WORKERS), "--threads", str(THREADS), "--no-access-log"],
            env=self.env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=self.log.open("wb"))
        for _ in range(600):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return f"http://127.0.0.1:{port}"
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"gunicorn did not start:\n{self.log.read_text()}")
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not listen within 60 s")

    def __exit__(self, *_exc) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)
        errors = [line for line in self.log.read_text().splitlines()
                  if "Traceback" in line or "ERROR" in line]
        if errors:
            print(f"server log: {len(errors)} error lines, e.g. {errors[0]}")


def _locust(base: str, scenario: Path, prefix: Path, seconds: int) -> dict:
    # gunicorn's sync workers close every connection, so locust connects for every request, and
    # gevent's default resolver hands each getaddrinfo("127.0.0.1") to a thread: a third of
    # locust's CPU, taken from the cores the server runs on. "block" resolves in place.
    env = {**os.environ, "GEVENT_RESOLVER": "block", "CONFIGURATOR_LOAD_SCENARIO": str(scenario),
           "CONFIGURATOR_LOAD_RESULTS": f"{prefix}-created.json", "PYTHONPATH": str(ROOT)}
    subprocess.run(
        [str(BIN / "locust"), "-f", str(ROOT / "benchmarks" / "locustfile.py"), "--headless",
         "--host", base, "-u", str(USERS), "-r", str(USERS), "-t", f"{seconds}s",
         "--stop-timeout", "10", "--json-file", str(prefix), "--only-summary",
         "--loglevel", "WARNING", "--exit-code-on-error", "0"],
        env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return {"stats": json.loads(Path(f"{prefix}.json").read_text()), "seconds": seconds}


# -- reporting ----------------------------------------------------------------------------

def _percentile(times: dict[str, int], fraction: float) -> float:
    """From locust's response-time histogram (ms -> count)."""
    total = sum(times.values())
    seen = 0
    for ms, count in sorted((float(k), v) for k, v in times.items()):
        seen += count
        if seen >= fraction * total:
            return ms
    return 0.0


def _report(run: dict, prefix: Path) -> int:
    """Prints the table and the targets; the number of orders placed."""
    created = json.loads(Path(f"{prefix}-created.json").read_text())
    seconds = run["seconds"]
    print(f"{'endpoint':28} {'requests':>9} {'per s':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>7}")
    totals = Counter()
    p99 = {}
    for row in sorted(run["stats"], key=lambda r: r["name"]):
        times = row["response_times"]
        p99[row["name"]] = _percentile(times, 0.99)
        totals["requests"] += row["num_requests"]
        totals["errors"] += row["num_failures"]
        print(f"{row['name']:28} {row['num_requests']:9d} {row['num_requests'] / seconds:7.1f} "
              f"{_percentile(times, 0.5):7.0f} {p99[row['name']]:7.0f} {row['num_failures']:7d}")
    orders = len(created["shop"]) + len(created["partner"])
    print(f"{'all':28} {totals['requests']:9d} {totals['requests'] / seconds:7.1f} "
          f"{'':7} {'':7} {totals['errors']:7d}")
    rate = orders / seconds
    print(f"orders placed: {orders} in {seconds} s = {rate:.1f}/s "
          f"({len(created['shop'])} through the shop, {len(created['partner'])} by partners)")
    propagate = p99.get("propagate", float("nan"))
    print("targets (2-core machine, 32 users):")
    print(f"  orders/s      >= {TARGET_ORDERS_PER_SECOND}: {rate:.1f} "
          f"({rate / TARGET_ORDERS_PER_SECOND:.2f}x) {'met' if rate >= 200 else 'NOT met'}")
    print(f"  propagate p99 <= {TARGET_PROPAGATE_P99_MS} ms: {propagate:.0f} ms "
          f"({propagate / TARGET_PROPAGATE_P99_MS:.2f}x) "
          f"{'met' if propagate <= TARGET_PROPAGATE_P99_MS else 'NOT met'}")
    print(f"  errors        = 0: {totals['errors']} {'met' if not totals['errors'] else 'NOT met'}")
    return orders


def _check_database(env: dict[str, str], first_new_order: int, prefixes: list[Path]) -> None:
    """The database holds exactly the orders answered as created, each whole."""
    from sqlalchemy import create_engine, text

    answered = {"shop": set(), "partner": set()}
    for prefix in prefixes:
        created = json.loads(Path(f"{prefix}-created.json").read_text())
        for kind in answered:
            answered[kind].update(created[kind])
    engine = create_engine(env["CONFIGURATOR_DATABASE_URL"])
    with engine.connect() as connection:
        rows = connection.execute(text(
            'SELECT source, reference, tracking_token FROM "order" WHERE id >= :first'),
            {"first": first_new_order}).all()
        units_without_work_order = connection.execute(text(
            "SELECT count(*) FROM unit u LEFT JOIN work_order w ON w.unit_id = u.id "
            "WHERE w.id IS NULL")).scalar()
        orders_without_units = connection.execute(text(
            'SELECT count(*) FROM "order" o WHERE NOT EXISTS '
            "(SELECT 1 FROM unit u WHERE u.order_id = o.id)")).scalar()
    engine.dispose()
    stored = {"shop": {r.tracking_token for r in rows if r.source == "shop"},
              "partner": {r.reference for r in rows if r.source == "partner"}}
    exact = stored == answered and len(rows) == len(answered["shop"]) + len(answered["partner"])
    print(f"database: {len(rows)} new orders, {len(answered['shop']) + len(answered['partner'])} "
          f"answered as created (warm-up included): {'exactly the same' if exact else 'DIFFERENT'}"
          f"; orders without units {orders_without_units}, units without a work order "
          f"{units_without_work_order}")
    if not exact:
        for kind in answered:
            print(f"  {kind}: stored but not answered {len(stored[kind] - answered[kind])}, "
                  f"answered but not stored {len(answered[kind] - stored[kind])}")


def _empty_queue(queue: str) -> None:
    try:
        import redis

        redis.Redis.from_url(REDIS).delete(queue)
    except Exception as exc:  # the benchmark's figures stand; say what was left behind
        print(f"could not empty the render queue {queue!r} on {REDIS}: {exc}")
