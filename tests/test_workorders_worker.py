"""With a broker configured, work orders render on a real Celery worker (Redis)."""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from configurator.extensions import db as _db
from configurator.models import WorkOrder
from conftest import redis_up
from workorders_support import place

REDIS = "redis://127.0.0.1:6379/15"


@pytest.fixture
def worker_config(app_config):
    if not redis_up():
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    queue = f"workorders-test-{secrets.token_hex(4)}"
    app_config.update(BROKER_URL=REDIS, RENDER_QUEUE=queue)
    return app_config


@pytest.fixture
def worker(worker_config, tmp_path):
    env = {**os.environ, "CONFIGURATOR_BROKER_URL": REDIS,
           "CONFIGURATOR_RENDER_QUEUE": worker_config["RENDER_QUEUE"],
           "CONFIGURATOR_DATABASE_URL": worker_config["DATABASE_URL"],
           "CONFIGURATOR_STORAGE_DIR": worker_config["STORAGE_DIR"],
           "CONFIGURATOR_SPECS_DIR": worker_config["SPECS_DIR"],
           "CONFIGURATOR_SECRET_KEY": "test-secret"}
    celery = Path(sys.executable).with_name("celery")
    process = subprocess.Popen(
        [str(celery), "-A", "configurator.workorders.tasks", "worker", "--pool=solo",
         "-Q", worker_config["RENDER_QUEUE"], "--without-mingle", "--without-gossip",
         "--without-heartbeat", "-l", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=(tmp_path / "worker.log").open("wb"))
    process.log = tmp_path / "worker.log"
    yield process
    process.terminate()
    process.wait(timeout=30)


@pytest.mark.redis
def test_a_worker_renders_the_work_orders_of_a_placed_order(worker, app, db, catalog):
    # `worker` first: its settings (the broker) must be in the config before the app is made
    order = place(catalog, n=2)
    ids = [u.id for u in order.units]
    for _ in range(1200):  # wait for the worker to finish, however long a cold start takes
        _db.session.expire_all()
        states = db.session.execute(
            select(WorkOrder.status).where(WorkOrder.unit_id.in_(ids))).scalars().all()
        if all(s in ("done", "failed") for s in states) or worker.poll() is not None:
            break
        time.sleep(0.1)
    assert states == ["done", "done"], worker.log.read_text()


def test_a_second_app_with_another_queue_sends_its_tasks_there(app_config):
    """Several apps in one process (tests, CLI): each app's broker and queue are the ones used."""
    from configurator import create_app
    from configurator.workorders.tasks import celery

    create_app({**app_config, "BROKER_URL": REDIS, "RENDER_QUEUE": "first-queue"})
    assert "first-queue" in celery.amqp.queues
    create_app({**app_config, "BROKER_URL": REDIS, "RENDER_QUEUE": "second-queue"})
    assert "second-queue" in celery.amqp.queues and "first-queue" not in celery.amqp.queues
    assert celery.conf.task_default_queue == "second-queue"


@pytest.mark.redis
def test_with_a_broker_the_order_is_the_hand_over_and_a_dispatcher_queues_it_once(
        worker_config, app, db, catalog):
    """No broker round trip in the request: the committed work orders wait, undispatched,
    until a render worker's dispatcher queues each once (a transactional outbox)."""
    import redis

    from configurator.workorders.dispatch import dispatch_pending

    queue = redis.Redis.from_url(REDIS)
    try:
        order = place(catalog, n=3)
        assert queue.llen(worker_config["RENDER_QUEUE"]) == 0
        pending = db.session.execute(select(WorkOrder).where(
            WorkOrder.unit_id.in_([u.id for u in order.units]))).scalars().all()
        assert [(w.status, w.dispatched_at) for w in pending] == [("pending", None)] * 3
        assert dispatch_pending() == 3
        assert queue.llen(worker_config["RENDER_QUEUE"]) == 3
        assert dispatch_pending() == 0 and queue.llen(worker_config["RENDER_QUEUE"]) == 3
        _db.session.expire_all()
        assert all(w.dispatched_at is not None for w in pending)
    finally:
        queue.delete(worker_config["RENDER_QUEUE"])
