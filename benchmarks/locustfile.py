"""The load of `benchmarks/load.py`, run by locust (headless): shoppers and partner systems.

A shopper opens the configurator, clicks through choices (each click is a `propagate` call
with the defaults the page picked, as the live page sends it), adds the design to the order,
opens the order page and checks out through the real forms with their CSRF tokens, then opens
the tracking page. A partner system posts orders to `/partners/v1/orders` with its key and an
Idempotency-Key. No think time: each user goes as fast as the server answers.

Reads the scenario (designs, the partner key) from CONFIGURATOR_LOAD_SCENARIO and writes what
was answered as created to CONFIGURATOR_LOAD_RESULTS when locust stops.
"""
from __future__ import annotations

import html
import itertools
import json
import os
import random
import re
import uuid

from locust import FastHttpUser, constant, events, task

SCENARIO = json.loads(open(os.environ["CONFIGURATOR_LOAD_SCENARIO"]).read())
CREATED: dict[str, list[str]] = {"shop": [], "partner": []}
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
AUTO = re.compile(r'id="auto-picked" value="([^"]*)"')
_numbers = itertools.count(1)


def _csrf(response) -> str | None:
    match = CSRF.search(response.text or "")
    return match.group(1) if match else None


def _picked(response) -> dict:
    match = AUTO.search(response.text or "")
    return json.loads(html.unescape(match.group(1))) if match else {}


def _form(design: dict, prefixes: tuple[str, str, str]) -> dict:
    option, measure, text = prefixes
    data = {f"{option}{k}": v for k, v in design["options"].items()}
    data.update({f"{measure}{k}": str(v) for k, v in design["measurements"].items()})
    data.update({f"{text}{k}": v for k, v in design["texts"].items()})
    return data


class Shopper(FastHttpUser):
    wait_time = constant(0)

    @task
    def order_through_the_shop(self) -> None:
        product = random.choice(SCENARIO["shop_products"])
        page = self.client.get(f"/products/{product}", name="configure page")
        token = _csrf(page)
        # Like the live page: the form holds the defaults the page picked ("auto") beside the
        # shopper's own choices, and each answer says which picks still stand.
        picked = _picked(page)
        for design in random.sample(SCENARIO["partials"][product], SCENARIO["clicks"]):
            body = {"design": {**design, "options": {**picked, **design["options"]}},
                    "auto": picked}
            with self.client.post(f"/api/products/{product}/propagate", json=body,
                                  name="propagate", catch_response=True) as answer:
                if answer.status_code != 200:
                    answer.failure(f"propagate answered {answer.status_code}")
                    return
                picked = answer.json().get("auto", {})
        with self.client.post(
                f"/products/{product}", name="add to order", allow_redirects=False,
                data={**_form(SCENARIO["designs"][product], ("option_", "measure_", "text_")),
                      "action": "add", "csrf_token": token or ""},
                catch_response=True) as added:
            if added.status_code != 302:
                added.failure(f"add to order answered {added.status_code}")
                return
        token = _csrf(self.client.get("/order", name="order page"))
        with self.client.post("/order", name="place order (shop)", allow_redirects=False, data={
                "name": "Ana Sousa", "email": "ana@example.com",
                "address": "Rua das Flores 12\n4050-262 Porto", "csrf_token": token or ""},
                catch_response=True) as placed:
            location = placed.headers.get("Location", "")
            if placed.status_code != 302 or "/track/" not in location:
                placed.failure(f"checkout answered {placed.status_code}")
                return
            CREATED["shop"].append(location.rsplit("/track/", 1)[1])
        self.client.get(location, name="tracking page")


class PartnerSystem(FastHttpUser):
    wait_time = constant(0)

    @task
    def post_an_order(self) -> None:
        product = random.choice(SCENARIO["partner_products"])
        number = next(_numbers)
        fields = _form(SCENARIO["designs"][product], ("option.", "measure.", "text."))
        form = {"product": product, **fields,
                "customer_name": "Jonas Weber", "customer_email": "jonas@example.com",
                "ship_to.line1": "Kastanienallee 5", "ship_to.postcode": "10435",
                "ship_to.city": "Berlin", "ship_to.country": "Germany",
                "partner_reference": f"LOAD-{os.getpid()}-{number}"}
        headers = {"Authorization": f"Bearer {SCENARIO['partner_key']}",
                   "Idempotency-Key": str(uuid.uuid4())}
        with self.client.post("/partners/v1/orders", data=form, headers=headers,
                              name="place order (partner)", catch_response=True) as answer:
            if answer.status_code != 201:
                answer.failure(f"partner post answered {answer.status_code}: "
                               f"{(answer.text or '')[:200]}")
                return
            CREATED["partner"].append(answer.json()["reference"])


@events.quitting.add_listener
def _write_results(**_kwargs) -> None:
    with open(os.environ["CONFIGURATOR_LOAD_RESULTS"], "w") as out:
        json.dump(CREATED, out)
