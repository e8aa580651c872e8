# ruff: noqa: F811 (the fixtures imported from test_payments_pay are arguments here)
"""The payments plugin's rates for the widgets and its mail placeholders
(plugins/payments): a walk-in from the walk-in widget gets the rate the
organisation chose for it and must pay before the waiting room; the
settings refuse another organisation's rate; the invitation's text may
name the rate and its amount."""

from consultroom_payments.models import Charge, PaymentSettings, Rate
from sqlalchemy import select
from test_payments_pay import clinic, fake_stripe, is_waiting_room  # noqa: F401 (fixtures)
from walk_in_support import walk_in

from consultroom.accounts.models import Role
from consultroom.clientmail.models import KINDS, Template, TemplateSet

from clientmail_support import body_of
from clients_support import errors, post

SETTINGS = {"country": "NL", "vat_number": "", "prices_include_vat": "y"}


def rate_id(dbsession, clinic):
    return dbsession.scalar(select(Rate.id).where(Rate.organisation_id == clinic["org"].id))


def test_a_walk_in_pays_the_walk_in_rate(clinic, dbsession, make_user, webtest):
    rate = rate_id(dbsession, clinic)
    post(clinic["admin"], "/payments/settings", {**SETTINGS, "walk_in_rate_id": rate})
    link, made = walk_in(dbsession, make_user, webtest("pay"), clinic["org"])
    assert not is_waiting_room(link)
    assert link.html.select_one('[data-step="payments.pay"]') is not None
    assert dbsession.get(Charge, made.id).rate_id == rate


def test_walk_ins_are_free_without_a_walk_in_rate(clinic, dbsession, make_user, webtest):
    link, made = walk_in(dbsession, make_user, webtest("pay"), clinic["org"])
    assert is_waiting_room(link)
    assert dbsession.get(Charge, made.id) is None


def test_the_widget_rates_must_be_the_organisations(clinic, dbsession, webtest, login, make_user):
    other = webtest("other")
    login(other, make_user(clinic["other"], role=Role.org_admin))
    post(other, "/payments/rates", {"name": "Theirs", "amount": "1", "currency": "EUR"})
    theirs = dbsession.scalar(select(Rate.id).where(Rate.organisation_id == clinic["other"].id))
    data = {**SETTINGS, "booking_rate_id": theirs}
    page = post(clinic["admin"], "/payments/settings", data, status=400)
    assert errors(page)["booking_rate_id"]
    dbsession.expire_all()
    assert dbsession.get(PaymentSettings, clinic["org"].id).booking_rate_id is None
    page = clinic["admin"].get("/payments/settings")
    options = [o.get_text() for o in page.html.select("#booking_rate_id option")]
    assert options == ["Free", "Consultation"]


def test_the_invitation_names_the_rate_and_amount(clinic, dbsession, webtest, login, smtp):
    admin = clinic["admin"]
    offered = [code.get_text() for code in admin.get("/mail-templates/new").html.select("dt code")]
    assert "*|payments_rate|*" in offered and "*|payments_amount|*" in offered
    body = "Rate: *|payments_rate|*, *|payments_amount|*. *|consult_deeplink|*"
    templates = [Template(kind=k, subject=f"{k} *|date|*", body=body) for k in KINDS]
    dbsession.add(
        TemplateSet(
            organisation_id=clinic["org"].id,
            name="Paid",
            language="en",
            is_default=True,
            templates=templates,
        )
    )
    dbsession.flush()
    doctor = webtest("pay")
    login(doctor, clinic["doctor"])
    rate = rate_id(dbsession, clinic)
    data = {
        "client_id": clinic["client"].id,
        "practitioner_id": clinic["doctor"].id,
        "date": "2030-06-10",
        "start_time": "10:00",
        "duration_minutes": "20",
        "message": "",
        "payments_rate": rate,
    }
    post(doctor, "/appointments/new", data, status=303)
    [message] = smtp.messages
    assert body_of(message).startswith("Rate: Consultation, €50.00. http")
    data["payments_rate"] = ""
    data["start_time"] = "11:00"
    post(doctor, "/appointments/new", data, status=303)
    assert body_of(smtp.messages[1]).startswith("Rate: , . http")  # free: left empty
