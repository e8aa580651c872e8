"""The worker's scheduled jobs: the reminder on the day (once, from 07:00
local time, through a real SMTP server) and anonymisation of old
appointments, on a frozen clock."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from consultroom.accounts.models import Role
from consultroom.appointments.models import Appointment, Status
from consultroom.clients.models import Client, Participant
from consultroom.jobs import anonymise, reminders, run_due
from consultroom.mail.models import OutboxMessage
from consultroom.web.sites import site_request

# 4 March 2031: Amsterdam is UTC+1.
DAY = datetime(2031, 3, 4)


def utc(local_hour, minute=0, second=0, day=DAY):
    """A naive UTC time for ``local_hour`` in Amsterdam on ``day``."""
    return day.replace(hour=local_hour, minute=minute, second=second) - timedelta(hours=1)


def frozen(naive_utc):
    return time_machine.travel(naive_utc.replace(tzinfo=UTC), tick=False)


@pytest.fixture
def clinic(make_organisation, make_user, dbsession):
    org = make_organisation("alpha", timezone="Europe/Amsterdam")
    practitioner = make_user(org, role=Role.practitioner)
    client = Client(organisation_id=org.id, last_name="Jansen", email="jansen@example.org")
    dbsession.add(client)
    dbsession.flush()

    def appointment(starts_at, created_at=DAY - timedelta(days=3), organisation=org, **kw):
        kw.setdefault("client_id", client.id)
        row = Appointment(
            organisation_id=organisation.id,
            practitioner_id=practitioner.id,
            starts_at=starts_at,
            created_at=created_at,
            **kw,
        )
        dbsession.add(row)
        dbsession.flush()
        return row

    return org, client, practitioner, appointment


def fresh(dbsession, row):
    dbsession.expire_all()
    return dbsession.get(type(row), row.id)


# ---- reminders


def test_reminder_is_sent_once_from_seven_local(app, clinic, dbsession, smtp):
    org, client, practitioner, appointment = clinic
    booked = appointment(utc(14))
    with frozen(utc(6, 59, 59)):
        assert run_due(app.registry)["reminders"] == 0
    assert smtp.messages == []
    with frozen(utc(7)):
        assert run_due(app.registry)["reminders"] == 1
        # A second round, or a second worker: nothing more.
        assert run_due(app.registry)["reminders"] == 0
        assert reminders.run(app.registry, "alpha") == 0
    [mail] = smtp.messages
    assert mail["To"] == "jansen@example.org"
    assert any(
        part.get_filename() == "invite.ics" or part.get_content_type() == "text/calendar"
        for part in mail.iter_attachments()
    )
    booked = fresh(dbsession, booked)
    assert booked.reminder_sent_at == utc(7)
    outbox = dbsession.scalars(
        select(OutboxMessage).where(OutboxMessage.ref == f"appointment:{booked.id}")
    ).all()
    assert [m.status for m in outbox] == ["sent"]


def test_a_claimed_reminder_is_left_to_the_worker_that_claimed_it(app, clinic, dbsession, smtp):
    org, client, practitioner, appointment = clinic
    booked = appointment(utc(14))
    with frozen(utc(8)):
        # Worker one claims the row (its transaction still open: the mail is not out)...
        first = site_request(app.registry, "alpha")
        with first.tm:
            assert reminders.claim(first, booked.id, utc(8))
            # ...worker two, in the same moment, finds nothing to claim.
            second = site_request(app.registry, "alpha")
            with second.tm:
                assert not reminders.claim(second, booked.id, utc(8))
                assert reminders.remind(second, booked.id, utc(8)) == 0
    assert smtp.messages == []  # the claim alone sends nothing
    assert fresh(dbsession, booked).reminder_sent_at == utc(8)


def test_only_todays_upcoming_scheduled_appointments_booked_before_the_reminders(
    app, clinic, dbsession, smtp
):
    org, client, practitioner, appointment = clinic
    due = appointment(utc(16))
    booked_early_today = appointment(utc(17), created_at=utc(6, 30))
    skipped = [
        appointment(utc(15), created_at=utc(9)),  # booked today after 07:00
        appointment(utc(9, day=DAY + timedelta(days=1))),  # tomorrow
        appointment(utc(8)),  # already begun at 10:00
        appointment(utc(18), status=Status.cancelled),
        appointment(utc(11), client_id=None),  # nobody to remind
    ]
    with frozen(utc(10)):
        assert run_due(app.registry)["reminders"] == 2
    assert len(smtp.messages) == 2
    assert fresh(dbsession, due).reminder_sent_at is not None
    assert fresh(dbsession, booked_early_today).reminder_sent_at is not None
    assert all(fresh(dbsession, a).reminder_sent_at is None for a in skipped)


def test_the_reminder_hour_is_the_organisations_local_time(
    app, clinic, make_organisation, dbsession, smtp
):
    org, client, practitioner, appointment = clinic
    org.timezone = "America/New_York"  # 07:00 in Amsterdam is 01:00 there
    appointment(utc(20))
    dbsession.flush()
    with frozen(utc(7)):
        assert run_due(app.registry)["reminders"] == 0
    assert smtp.messages == []


def test_the_reminder_hour_is_a_setting(app, clinic, smtp):
    org, client, practitioner, appointment = clinic
    appointment(utc(14))
    settings = app.registry.settings
    settings["jobs.reminder_hour"] = "9"
    try:
        with frozen(utc(8, 59)):
            assert run_due(app.registry)["reminders"] == 0
        with frozen(utc(9)):
            assert run_due(app.registry)["reminders"] == 1
    finally:
        del settings["jobs.reminder_hour"]


def test_no_reminders_when_the_organisation_sends_no_emails(app, clinic, dbsession, smtp):
    org, client, practitioner, appointment = clinic
    org.settings = {"no_emails": True}
    booked = appointment(utc(14))
    with frozen(utc(7)):
        assert run_due(app.registry)["reminders"] == 0
    assert smtp.messages == []
    assert fresh(dbsession, booked).reminder_sent_at is None


# ---- anonymisation

NOW = datetime(2031, 6, 1, 12)


def test_old_appointments_lose_client_data_and_keep_the_rest(
    app, clinic, dbsession, make_organisation, smtp
):
    org, client, practitioner, appointment = clinic
    org.settings = {"anonymise_after_days": 30}
    cutoff = NOW - timedelta(days=30)
    helper = Participant(organisation_id=org.id, last_name="Interpreter")
    old = appointment(
        cutoff - timedelta(minutes=21),
        duration_minutes=20,
        message="About your knee",
        participants=[helper],
        status=Status.cancelled,
    )
    # Begun before the cutoff but ends after it: kept for now.
    ending = appointment(
        cutoff - timedelta(minutes=10), duration_minutes=20, message="Still recent"
    )
    recent = appointment(NOW - timedelta(days=2), message="Recent")
    mail = OutboxMessage(
        organisation_id=org.id,
        recipient=client.email,
        subject="Invitation",
        message=b"Dear Jansen",
        status="sent",
        ref=f"appointment:{old.id}",
    )
    other_org = make_organisation("beta")  # N = 0: keeps everything
    elsewhere = appointment(cutoff - timedelta(days=300), organisation=other_org, message="Kept")
    dbsession.add(mail)
    dbsession.flush()
    mail_id = mail.id
    dbsession.expunge(mail)
    old_values = (old.starts_at, old.duration_minutes, old.practitioner_id, old.status)

    with frozen(NOW):
        assert run_due(app.registry)["anonymised"] == 1
        assert anonymise.run(app.registry, "alpha") == 0  # a second worker: nothing left

    old = fresh(dbsession, old)
    assert old.client_id is None and old.message == "" and old.participants == []
    assert old.anonymised_at == NOW
    assert (old.starts_at, old.duration_minutes, old.practitioner_id, old.status) == old_values
    assert dbsession.get(OutboxMessage, mail_id) is None
    assert dbsession.get(Client, client.id) is not None  # clients are kept
    assert dbsession.get(Participant, helper.id) is not None
    for kept, message in ((ending, "Still recent"), (recent, "Recent"), (elsewhere, "Kept")):
        kept = fresh(dbsession, kept)
        assert kept.client_id == client.id and kept.message == message
        assert kept.anonymised_at is None


def test_anonymising_claims_rows_once(app, clinic, dbsession):
    org, client, practitioner, appointment = clinic
    org.settings = {"anonymise_after_days": 1}
    old = appointment(NOW - timedelta(days=5))
    first, second = (site_request(app.registry, "alpha") for _ in range(2))
    with first.tm:
        assert anonymise.due(first, NOW) == [old.id]
        assert anonymise.anonymise(first, [old.id], NOW) == 1
    with second.tm:
        assert anonymise.anonymise(second, [old.id], NOW) == 0
        assert anonymise.due(second, NOW) == []


# ---- the worker command


def test_worker_once_sends_the_days_reminders(tmp_path, capsys):
    from test_cli import CLI, read_mail

    from consultroom.accounts.models import User
    from consultroom.tenancy.models import Organisation

    cli = CLI(tmp_path, capsys)
    cli("db", "upgrade")
    cli("orgs", "create", "--subdomain", "acme", "--name", "Acme Care")
    cli(
        "users",
        "create",
        "--org",
        "acme",
        "--email",
        "piet@acme.example",
        "--name",
        "Piet",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    with cli.session() as db:
        org = db.scalar(select(Organisation))
        client = Client(organisation_id=org.id, last_name="Jansen", email="jansen@example.org")
        db.add(client)
        db.flush()
        db.add(
            Appointment(
                organisation_id=org.id,
                client_id=client.id,
                practitioner_id=db.scalar(select(User.id)),
                starts_at=utc(14),
                created_at=DAY - timedelta(days=1),
            )
        )
        db.commit()
    with frozen(utc(7, 30)):
        assert (
            cli("worker", "--once")
            == "reminders: 1, anonymised: 0, rooms closed: 0, sockets expired: 0, usage: 0,"
            " room files removed: 0\n"
        )
        assert cli("worker", "--once") == ""
    [path] = cli.mails()
    assert read_mail(path)["To"] == "jansen@example.org"
    cli.close()
