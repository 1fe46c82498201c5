"""Webhooks, delivered for real over HTTP to a receiver the test runs on 127.0.0.1: signed
body, a retry with back-off after the receiver fails, private targets refused."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from remover.devapi import webhooks
from remover.devapi.followup import run_due
from remover.devapi.models import ApiKey, WebhookDelivery

from .helpers import error_code, image_bytes, post
from .servers import reply, serving

pytestmark = pytest.mark.django_db
JOBS = "/api/v1/jobs"


def test_signatures_check_body_secret_and_age():
    body = b'{"event":"job.finished"}'
    header = webhooks.sign("whsec_1", 1_700_000_000, body)
    assert webhooks.verify("whsec_1", header, body, now=1_700_000_100)
    assert not webhooks.verify("whsec_1", header, body + b" ", now=1_700_000_100)  # body changed
    assert not webhooks.verify("whsec_2", header, body, now=1_700_000_100)  # other secret
    assert not webhooks.verify("whsec_1", header, body, now=1_700_009_999)  # replayed much later
    assert not webhooks.verify("whsec_1", "garbage", body)


def test_delivery_is_signed_and_retried_after_a_failure(client, key, worker, fake_model, settings):
    settings.CLEARCUT_API_WEBHOOK_ALLOW_NETWORKS = "127.0.0.1/32"
    settings.CLEARCUT_API_WEBHOOK_RETRY_SECONDS = "30,300"

    def first_fails(handler, state):
        reply(handler, 500 if len(state.requests) == 1 else 204)

    with serving(first_fails) as receiver:
        created = post(client, JOBS, key, files={"image_file": image_bytes(200, 150)}, webhook_url=receiver.url("/hook"))
        assert created.status_code == 202, created.content
        assert created.json()["webhook"] == {"url": receiver.url("/hook"), "state": "pending", "attempts": 0}
        assert run_due() == 0  # nothing is sent before the job has finished
        worker.drain()

        assert run_due() == 1  # first attempt: the receiver answers 500
        delivery = WebhookDelivery.objects.get()
        assert (delivery.state, delivery.attempts) == ("pending", 1) and "500" in delivery.last_error
        wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
        assert 25 < wait <= 30  # the first back-off step
        assert run_due() == 0  # not due yet

        assert run_due(now=timezone.now() + timedelta(seconds=31)) == 1  # the retry is taken
        delivery.refresh_from_db()
        assert (delivery.state, delivery.attempts) == ("delivered", 2)

    assert len(receiver.requests) == 2
    secret = ApiKey.objects.get().webhook_secret
    for seen in receiver.requests:
        assert seen.method == "POST" and seen.path == "/hook"
        assert seen.headers["content-type"] == "application/json"
        assert webhooks.verify(secret, seen.headers["x-clearcut-signature"], seen.body)
    event = json.loads(receiver.requests[-1].body)
    assert event["event"] == "job.finished"
    assert event["job"]["id"] == created.json()["id"] and event["job"]["status"] == "done"
    assert event["job"]["result_url"].endswith("/result")


def test_a_receiver_that_keeps_failing_is_given_up(client, key, worker, fake_model, settings):
    settings.CLEARCUT_API_WEBHOOK_ALLOW_NETWORKS = "127.0.0.1/32"
    settings.CLEARCUT_API_WEBHOOK_RETRY_SECONDS = "1"
    with serving(lambda handler, state: reply(handler, 302, headers={"Location": "/elsewhere"})) as receiver:
        post(client, JOBS, key, files={"image_file": image_bytes(60, 60)}, webhook_url=receiver.url("/hook"))
        worker.drain()
        later = timezone.now()
        for _ in range(3):
            run_due(now=later)
            later += timedelta(seconds=5)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts) == ("failed", 2)  # redirects are not followed: a failure
    assert [seen.path for seen in receiver.requests] == ["/hook", "/hook"]


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/hook", "http://10.0.0.2/hook", "gopher://example.com/"])
def test_private_or_odd_webhook_targets_are_refused_up_front(client, key, url):
    response = post(client, JOBS, key, files={"image_file": image_bytes(60, 60)}, webhook_url=url)
    assert response.status_code == 400 and error_code(response) in ("url_not_allowed", "invalid_url")
    assert response.json()["error"]["message"].startswith("webhook_url:")
