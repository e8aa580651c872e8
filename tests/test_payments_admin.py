"""The payments plugin's organisation-admin pages (plugins/payments):
payment settings, rates and VAT rules, each form refusing bad input with a
message and saving nothing, another organisation's ids answering 404, other
roles refused, and an organisation without the plugin seeing none of it."""

from decimal import Decimal

import pytest
from consultroom_payments.models import PaymentSettings, Rate, VatRule
from sqlalchemy import select

from consultroom.accounts.models import Role

from clients_support import errors, post


@pytest.fixture
def orgs(make_organisation, make_user, enable_plugin):
    """ "pay" and "pay2" enabled payments, "free" did not; an admin each."""
    made = {}
    for subdomain in ("pay", "pay2", "free"):
        org = make_organisation(subdomain)
        made[subdomain] = (org, make_user(org, role=Role.org_admin))
    enable_plugin(made["pay"][0], "payments")
    enable_plugin(made["pay2"][0], "payments")
    return made


@pytest.fixture
def admin(orgs, webtest, login):
    app = webtest("pay")
    login(app, orgs["pay"][1])
    return app


def rows(dbsession, model, org):
    dbsession.expire_all()
    return dbsession.scalars(select(model).where(model.organisation_id == org.id)).all()


def test_rates_are_added_changed_and_archived(admin, orgs, dbsession):
    org = orgs["pay"][0]
    page = admin.get("/payments/rates")
    assert "No rates yet" in page.text
    form = page.forms[1]
    form["name"], form["amount"], form["currency"] = "Consultation", "45,50", "EUR"
    page = form.submit().follow()
    [rate] = rows(dbsession, Rate, org)
    assert (rate.name, rate.amount, rate.currency) == ("Consultation", Decimal("45.50"), "EUR")
    assert "€45.50" in page.text

    edit = admin.get(f"/payments/rates/{rate.id}").forms[1]
    assert edit["amount"].value == "45.50"
    edit["amount"] = "50"
    edit.submit().follow()
    assert rows(dbsession, Rate, org)[0].amount == Decimal("50")

    post(admin, f"/payments/rates/{rate.id}/archive", {"archive": "1"}).follow()
    assert rows(dbsession, Rate, org)[0].archived
    page = admin.get("/payments/rates")
    assert "Archived rates" in page.text and "No rates yet" in page.text
    post(admin, f"/payments/rates/{rate.id}/archive", {"archive": "0"})
    assert not rows(dbsession, Rate, org)[0].archived


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"name": "", "amount": "10", "currency": "EUR"}, "name", "Give the rate a name."),
        ({"name": "A", "amount": "", "currency": "EUR"}, "amount", "Enter the amount"),
        ({"name": "A", "amount": "ten", "currency": "EUR"}, "amount", "at most 2 decimals"),
        ({"name": "A", "amount": "10.5", "currency": "JPY"}, "amount", "at most 0 decimals"),
        ({"name": "A", "amount": "-3", "currency": "EUR"}, "amount", "from 0 to 999999.99"),
        ({"name": "A", "amount": "10", "currency": "XXXX"}, "currency", "Not a valid choice"),
        ({"name": "A" * 101, "amount": "10", "currency": "EUR"}, "name", "100"),
        ({"name": "A\x00", "amount": "10", "currency": "EUR"}, "name", "control"),
    ],
)
def test_a_bad_rate_is_refused_and_nothing_saved(admin, orgs, dbsession, data, field, message):
    page = post(admin, "/payments/rates", data, status=400)
    assert message in " ".join(errors(page)[field])
    assert rows(dbsession, Rate, orgs["pay"][0]) == []


def test_vat_rules_added_changed_deleted_and_no_duplicates(admin, orgs, dbsession):
    org = orgs["pay"][0]
    post(admin, "/payments/vat", {"country": "NL", "kind": "any", "rate": "21"}).follow()
    page = post(admin, "/payments/vat", {"country": "", "kind": "any", "rate": "0"}).follow()
    assert "Every other country" in page.text and "Netherlands" in page.text
    page = post(admin, "/payments/vat", {"country": "NL", "kind": "any", "rate": "9"}, status=400)
    assert "There is already a rule" in " ".join(errors(page)["kind"])
    for bad in ("", "101", "21.555", "abc", "-1"):
        page = post(
            admin, "/payments/vat", {"country": "DE", "kind": "any", "rate": bad}, status=400
        )
        assert errors(page)["rate"]
    page = post(admin, "/payments/vat", {"country": "ZZ", "kind": "any", "rate": "5"}, status=400)
    assert errors(page)["country"]
    assert sorted((r.country, r.rate) for r in rows(dbsession, VatRule, org)) == [
        ("", Decimal("0")),
        ("NL", Decimal("21")),
    ]
    [nl] = [r for r in rows(dbsession, VatRule, org) if r.country == "NL"]
    post(admin, f"/payments/vat/{nl.id}", {"country": "NL", "kind": "private", "rate": "9,5"})
    dbsession.refresh(nl)
    assert (nl.kind, nl.rate) == ("private", Decimal("9.5"))
    post(admin, f"/payments/vat/{nl.id}", {"delete": "1"}).follow()
    assert [r.country for r in rows(dbsession, VatRule, org)] == [""]


def test_settings_check_the_organisations_vat_number(admin, orgs, dbsession):
    org = orgs["pay"][0]
    data = {"country": "NL", "vat_number": "NL12345", "prices_include_vat": "y"}
    page = post(admin, "/payments/settings", data, status=400)
    assert "not a VAT number of the chosen country" in " ".join(errors(page)["vat_number"])
    assert rows(dbsession, PaymentSettings, org) == []
    data["vat_number"] = "nl 1234.567.89 b01"
    post(admin, "/payments/settings", data).follow()
    [row] = rows(dbsession, PaymentSettings, org)
    assert (row.country, row.vat_number, row.prices_include_vat, row.reverse_charge) == (
        "NL",
        "NL123456789B01",
        True,
        False,
    )
    assert post(admin, "/payments/settings", {"country": ""}, status=400)


def test_another_organisations_ids_are_404(admin, orgs, dbsession, webtest, login):
    other = webtest("pay2")
    login(other, orgs["pay2"][1])
    post(other, "/payments/rates", {"name": "Theirs", "amount": "10", "currency": "EUR"})
    post(other, "/payments/vat", {"country": "NL", "kind": "any", "rate": "21"})
    [rate] = rows(dbsession, Rate, orgs["pay2"][0])
    [rule] = rows(dbsession, VatRule, orgs["pay2"][0])
    admin.get(f"/payments/rates/{rate.id}", status=404)
    post(admin, f"/payments/rates/{rate.id}", {"name": "Mine", "amount": "1"}, status=404)
    post(admin, f"/payments/rates/{rate.id}/archive", {"archive": "1"}, status=404)
    admin.get(f"/payments/vat/{rule.id}", status=404)
    post(admin, f"/payments/vat/{rule.id}", {"delete": "1"}, status=404)
    assert "Theirs" not in admin.get("/payments/rates").text
    assert rows(dbsession, Rate, orgs["pay2"][0])[0].name == "Theirs"
    assert not rows(dbsession, Rate, orgs["pay2"][0])[0].archived
    assert len(rows(dbsession, VatRule, orgs["pay2"][0])) == 1


def test_only_organisation_admins_and_only_where_enabled(orgs, webtest, login, make_user):
    practitioner = webtest("pay")
    login(practitioner, make_user(orgs["pay"][0], role=Role.practitioner))
    practitioner.get("/payments/rates", status=403)
    assert 'href="/payments"' not in practitioner.get("/").text
    free = webtest("free")
    login(free, orgs["free"][1])
    for path in ("/payments/rates", "/payments/vat", "/payments/settings", "/payments/rates/1"):
        free.get(path, status=404)
    assert 'href="/payments"' not in free.get("/").text


def test_forms_need_the_csrf_token(admin, orgs, dbsession):
    admin.post("/payments/rates", {"name": "X", "amount": "1", "currency": "EUR"}, status=400)
    assert rows(dbsession, Rate, orgs["pay"][0]) == []


def test_the_menu_shows_payments_to_admins(admin):
    assert 'href="/payments"' in admin.get("/").text
