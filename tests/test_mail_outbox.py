"""The outbox: what is queued is sent once, after commit, with retries; the
folder transport and the development mail page."""

from datetime import timedelta

import pytest
import transaction
from sqlalchemy import select, update

from consultroom.db import request_session, utcnow
from consultroom.mail import MAX_ATTEMPTS, Outbox, backoff, mail_outbox
from consultroom.mail.models import OutboxMessage
from consultroom.testing import free_port


@pytest.fixture
def outbox(_app_dbmaker, app_settings, db_connection):
    def make(**settings):
        return Outbox(
            {**app_settings, "mail.deliver_after_commit": "off", **settings}, _app_dbmaker
        )

    return make


def queue(outbox, n=1):
    """Queue ``n`` messages in one committed transaction; return their ids."""
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        session = request_session(outbox.dbmaker, manager)
        rows = [
            outbox.queue(session, manager, f"to{i}@example.org", f"Subject {i}", "Body")
            for i in range(n)
        ]
    return [r.id for r in rows]


def test_backoff_doubles_and_is_capped():
    assert [backoff(n).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]
    assert backoff(40) == timedelta(hours=6)


def test_two_workers_send_each_message_once(outbox, dbsession, smtp):
    ids = queue(outbox(), n=3)
    first, second = outbox(), outbox()
    assert first.deliver_due() == 3
    assert second.deliver_due() == 0
    assert sorted(m["To"] for m in smtp.messages) == [
        "to0@example.org",
        "to1@example.org",
        "to2@example.org",
    ]
    rows = dbsession.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))).all()
    assert {r.status for r in rows} == {"sent"} and all(r.attempts == 1 for r in rows)


def test_a_claimed_message_is_left_to_its_worker(outbox, dbsession, smtp):
    [message_id] = queue(outbox())
    worker = outbox()
    assert worker._claim(message_id, utcnow()) is not None
    # Another worker arriving while the lease runs sends nothing.
    assert outbox().deliver_due() == 0 and smtp.messages == []


def test_an_abandoned_claim_is_retaken_after_its_lease(outbox, dbsession, smtp):
    [message_id] = queue(outbox())
    dbsession.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(status="sending", next_attempt_at=utcnow() - timedelta(seconds=1))
    )
    assert outbox().deliver_due() == 1 and len(smtp.messages) == 1


def test_gives_up_after_max_attempts(outbox, dbsession):
    [message_id] = queue(outbox())
    dead = outbox(**{"mail.port": str(free_port())})
    for _ in range(MAX_ATTEMPTS):
        dbsession.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )
        dead.deliver_due()
    row = dbsession.get(OutboxMessage, message_id)
    dbsession.refresh(row)
    assert row.status == "failed" and row.attempts == MAX_ATTEMPTS
    assert "ConnectionRefusedError" in row.last_error


def test_folder_transport_and_dev_page(
    app_settings, _app_dbmaker, db_connection, tmp_path, make_organisation
):
    from webtest import TestApp

    from consultroom.app import make_config
    from consultroom.plugins.registry import PluginRegistry

    settings = {
        **app_settings,
        "consultroom.dev": "true",
        "mail.transport": "folder",
        "mail.folder": str(tmp_path),
        "mail.deliver_after_commit": "sync",
    }
    app = make_config(settings, plugins=PluginRegistry(), dbmaker=_app_dbmaker).make_wsgi_app()
    queue(mail_outbox(app.registry))
    assert len(list(tmp_path.glob("*.eml"))) == 1  # delivered right after commit
    console = TestApp(app, extra_environ={"HTTP_HOST": "consultroom.test"})
    listing = console.get("/_dev/mail")
    assert "Subject 0" in listing.text
    detail = listing.click("Subject 0")
    assert "to0@example.org" in detail.text and "Body" in detail.text
    console.get("/_dev/mail/../../etc", status=404)
    make_organisation("shop")
    TestApp(app, extra_environ={"HTTP_HOST": "shop.consultroom.test"}).get("/_dev/mail", status=404)


def test_dev_page_is_absent_outside_development(webtest):
    webtest().get("/_dev/mail", status=404)
