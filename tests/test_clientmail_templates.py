"""The template-set pages: only organisation admins; new sets start from the
built-in texts; unknown or malformed placeholders are refused by name with
nothing saved; one default per language; a department has one set per
language; edit, delete, preview; and a saved set is what clients get."""

import pytest
from sqlalchemy import func, select

from consultroom.clientmail.models import KINDS, Template, TemplateSet

from clientmail_support import body_of, book


@pytest.fixture
def admin_app(webtest, login, clinic_oost):
    app = webtest("clinic")
    login(app, clinic_oost.org_admin)
    return app


def _form(page):
    return next(f for f in page.forms.values() if "invitation_subject" in f.fields)


def _new(admin_app, name="Standard", language=None, **fields):
    page = admin_app.get("/mail-templates/new" + (f"?language={language}" if language else ""))
    form = _form(page)
    form["name"] = name
    for key, value in fields.items():
        form[key] = value
    return form


def _sets(dbsession):
    dbsession.expire_all()
    return dbsession.scalars(select(TemplateSet).order_by(TemplateSet.id)).all()


def test_only_organisation_admins_manage_templates(webtest, login, clinic_oost):
    for user in (clinic_oost.gp_admin, clinic_oost.gp_practitioner):
        app = webtest("clinic")
        login(app, user)
        app.get("/mail-templates", status=403)
        app.get("/mail-templates/new", status=403)


def test_a_new_set_starts_from_the_built_in_texts(admin_app):
    form = _form(admin_app.get("/mail-templates/new"))
    assert form["language"].value == "en"
    assert form["invitation_subject"].value == "Your video consultation on *|date|* at *|time|*"
    assert "*|consult_deeplink|*" in form["invitation_body"].value
    assert form["cancellation_subject"].value.startswith("Cancelled:")
    assert _form(admin_app.get("/mail-templates/new?language=sv"))["language"].value == "sv"


def test_saving_a_set_stores_every_kind_and_its_departments(admin_app, clinic_oost, dbsession):
    form = _new(
        admin_app,
        "GP texts",
        is_default=True,
        invitation_subject="Hello *|client_name|*, see you *|date|*",
    )
    form["departments"] = [str(clinic_oost.gp.id)]
    form.submit(status=303).follow()
    [saved] = _sets(dbsession)
    assert (saved.name, saved.language, saved.is_default) == ("GP texts", "en", True)
    assert [d.name for d in saved.departments] == ["GP"]
    subjects = {t.kind: t.subject for t in saved.templates}
    assert set(subjects) == set(KINDS)
    assert subjects["invitation"] == "Hello *|client_name|*, see you *|date|*"
    page = admin_app.get("/mail-templates")
    assert "GP texts" in page.text and "GP" in page.text


@pytest.mark.parametrize(
    "field, text, message",
    [
        ("invitation_body", "Hi *|patient|*", "Unknown placeholder: *|patient|*"),
        ("reminder_subject", "At *|time", "Malformed placeholder: *|time"),
        ("change_body", "Empty *||* here", "Malformed placeholder: *||*"),
        ("cancellation_body", "*|date *|time|*|*", "Malformed placeholder: *|date"),
        ("invitation_subject", "Stray |* end", "Malformed placeholder: |*"),
    ],
)
def test_bad_placeholders_are_refused_by_name(admin_app, dbsession, field, text, message):
    form = _new(admin_app, **{field: text})
    page = form.submit(status=200)
    assert message in page.text
    assert _sets(dbsession) == []
    assert dbsession.scalar(select(func.count()).select_from(Template)) == 0


def test_missing_fields_are_reported_per_field(admin_app, dbsession):
    form = _new(admin_app, "", reminder_body="")
    page = form.submit(status=200)
    assert page.text.count('class="error"') == 2
    assert _sets(dbsession) == []


def test_one_default_per_language(admin_app, dbsession):
    _new(admin_app, "First", is_default=True).submit(status=303)
    _new(admin_app, "Dutch", language="nl", is_default=True).submit(status=303)
    _new(admin_app, "Second", is_default=True).submit(status=303)
    defaults = {s.name: s.is_default for s in _sets(dbsession)}
    assert defaults == {"First": False, "Dutch": True, "Second": True}


def test_a_department_has_one_set_per_language(admin_app, clinic_oost, dbsession):
    form = _new(admin_app, "GP one")
    form["departments"] = [str(clinic_oost.gp.id)]
    form.submit(status=303)
    form = _new(admin_app, "GP two")
    form["departments"] = [str(clinic_oost.gp.id), str(clinic_oost.physio.id)]
    page = form.submit(status=200)
    assert "GP already has the set GP one in this language." in page.text
    # Another language is fine.
    form = _new(admin_app, "GP Dutch", language="nl")
    form["departments"] = [str(clinic_oost.gp.id)]
    form.submit(status=303)
    assert [s.name for s in _sets(dbsession)] == ["GP one", "GP Dutch"]


def test_another_organisations_department_cannot_be_chosen(admin_app, dbsession, make_organisation):
    from consultroom.tenancy.models import Department

    other = make_organisation("other")
    foreign = Department(organisation_id=other.id, name="Foreign")
    dbsession.add(foreign)
    dbsession.flush()
    form = _new(admin_app)
    form["departments"].force_value([str(foreign.id)])
    form.submit(status=200)
    assert _sets(dbsession) == []


def test_edit_preview_and_delete(admin_app, clinic_oost, dbsession):
    _new(admin_app, "Standard", invitation_subject="Welcome *|client_name|*").submit(status=303)
    [saved] = _sets(dbsession)
    form = _form(admin_app.get(f"/mail-templates/{saved.id}"))
    assert form["name"].value == "Standard"
    assert form["invitation_subject"].value == "Welcome *|client_name|*"
    form["name"] = "Renamed"
    form["reminder_body"] = "See you at *|time|*, *|client_name|*."
    form.submit(status=303)
    [saved] = _sets(dbsession)
    assert saved.name == "Renamed"
    assert {t.kind: t.body for t in saved.templates}[
        "reminder"
    ] == "See you at *|time|*, *|client_name|*."
    assert len(saved.templates) == len(KINDS)

    set_id = saved.id
    preview = admin_app.get(f"/mail-templates/{set_id}/preview")
    assert "Welcome J. Jansen" in preview.text
    assert "See you at 10:00" in preview.text and "*|" not in preview.text

    page = admin_app.get("/mail-templates")
    delete = next(f for f in page.forms.values() if f.action.endswith("/delete"))
    delete.submit(status=303)
    assert _sets(dbsession) == []
    admin_app.get(f"/mail-templates/{set_id}", status=404)


def test_a_saved_set_is_what_the_client_receives(app, admin_app, clinic_oost, smtp, dbsession):
    form = _new(
        admin_app,
        "GP texts",
        invitation_subject="*|organisation_name|*: *|date|* *|time|*",
        invitation_body="Dear *|client_name|*, come at *|time|*: *|consult_deeplink|*",
    )
    form["departments"] = [str(clinic_oost.gp.id)]
    form.submit(status=303)
    smtp.messages.clear()
    book(app, "clinic", clinic_oost.client.id, clinic_oost.gp_practitioner.id)
    [message] = smtp.messages
    assert message["Subject"] == "Clinic Oost: Tuesday, March 5, 2030 10:00 AM"
    assert body_of(message).startswith("Dear A. de Vries, come at 10:00 AM: http://clinic.")
