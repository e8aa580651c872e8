"""The payments plugin's "pay" step on the server's websocket: a client of
a paid appointment who has not paid is refused at hello (no visit, in
nobody's waiting list, told why) and cannot be called in; once paid, they
arrive and the practitioner's list marks them "paid". Over real websockets
against a real server process (realtime_support)."""

from decimal import Decimal

from consultroom_payments.models import Charge, Payment, Rate, Status
from sqlalchemy import select
from test_waitingroom_live import entry_of, wait_for_list

from consultroom.db import utcnow
from consultroom.plugins.models import PluginEnablement
from consultroom.waitingroom.models import Visit

from realtime_support import Browser, client_socket, staff_socket


def paid_appointment(server, org, doctor, name="Jansen"):
    server.add(PluginEnablement(organisation_id=org.id, plugin="payments", enabled=True))
    rate = server.add(
        Rate(organisation_id=org.id, name="Consultation", amount=Decimal("50"), currency="EUR")
    )
    appointment = server.appointment(org, doctor, name=name)
    server.add(Charge(organisation_id=org.id, appointment_id=appointment.id, rate_id=rate.id))
    return appointment


def pay(server, appointment, status=Status.paid):
    amount = Decimal("50.00")
    server.add(
        Payment(
            organisation_id=appointment.organisation_id,
            appointment_id=appointment.id,
            attempt=f"attempt-{appointment.id}-{status.value}-0123456789",
            provider="stripe",
            provider_ref=f"cs_{appointment.id}_{status.value}",
            status=status,
            rate_name="Consultation",
            currency="EUR",
            net=Decimal("41.32"),
            vat=Decimal("8.68"),
            gross=amount,
            vat_rate=Decimal("21"),
            payer_name="J. Jansen",
            payer_country="NL",
            paid_at=utcnow() if status is Status.paid else None,
        )
    )


def visits(server, appointment):
    return server.query(select(Visit.state).where(Visit.appointment_id == appointment.id))


def test_an_unpaid_client_never_joins_the_waiting_room(server, clinic):
    org, doctor = clinic
    appointment = paid_appointment(server, org, doctor)
    _browser, staff = staff_socket(server, org, doctor)
    staff.expect("waiting_list")
    pay(server, appointment, Status.pending)  # started, not paid
    pay(server, appointment, Status.failed)

    socket = Browser(server.port, org).socket()
    socket.send({"type": "hello", "role": "client", "token": appointment.token})
    error = socket.expect("error")
    assert error["code"] == "steps_unfinished"
    assert "Payment" in error["message"]
    assert socket.close_code() == 4401
    assert not any(m["type"] in ("welcome", "waiting") for m in socket.received)
    assert visits(server, appointment) == []
    staff.send({"type": "force_start", "appointment": appointment.id})
    refused = staff.expect("error")
    assert refused["code"] == "steps_unfinished" and "Payment" in refused["message"]
    staff.drain(0.5)
    assert all(m["count"] == 0 for m in staff.received if m["type"] == "waiting_list")

    pay(server, appointment)
    assert client_socket(server, org, appointment).expect("waiting")
    listing = wait_for_list(staff, lambda m: m["count"] == 1)
    assert {"text": "paid", "tone": "ok"} in entry_of(listing, appointment)["annotations"]
