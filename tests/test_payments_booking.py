# ruff: noqa: F811 (the fixtures imported from test_booking are arguments here)
"""The booking widget's rate (plugins/payments): an appointment a visitor
books in the booking widget gets the rate the organisation chose for the
widget, so its client pays before the waiting room; without one it is free."""

from decimal import Decimal

import pytest
from consultroom_payments.models import Charge, PaymentSettings, Rate
from sqlalchemy import select
from test_booking import department, details_page, fill, frozen, org, practitioner  # noqa: F401

from consultroom.appointments.models import Appointment


@pytest.fixture
def payments_on(org, enable_plugin, dbsession):
    enable_plugin(org, "payments")
    rate = Rate(organisation_id=org.id, name="Booked", amount=Decimal("35"), currency="EUR")
    dbsession.add(rate)
    dbsession.flush()
    return rate


def book(webtest, practitioner):
    page = fill(details_page(webtest("acme"), practitioner).forms[0]).submit()
    assert "Your appointment is booked" in page.text


def test_a_booked_appointment_gets_the_widgets_rate(
    webtest, practitioner, payments_on, dbsession, org
):
    dbsession.add(
        PaymentSettings(
            organisation_id=org.id,
            country="NL",
            vat_number="",
            prices_include_vat=True,
            reverse_charge=True,
            booking_rate_id=payments_on.id,
        )
    )
    dbsession.flush()
    book(webtest, practitioner)
    appointment = dbsession.scalars(select(Appointment)).one()
    assert dbsession.get(Charge, appointment.id).rate_id == payments_on.id


def test_without_a_widget_rate_a_booking_is_free(webtest, practitioner, payments_on, dbsession):
    book(webtest, practitioner)
    assert dbsession.scalars(select(Charge)).all() == []
