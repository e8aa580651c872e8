"""The template-set pages: organisation admins manage every set, department
admins their own department's only (others are not listed and a 404 by id);
search, filters and pages; new sets start from the built-in texts; unknown
or malformed placeholders are refused by name with nothing saved; one
default per language; a department has one set per language; edit, delete,
preview; and a saved set is what clients get."""

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


def test_practitioners_do_not_manage_templates(webtest, login, clinic_oost):
    app = webtest("clinic")
    login(app, clinic_oost.gp_practitioner)
    app.get("/mail-templates", status=403)
    app.get("/mail-templates/new", status=403)


def _stored_set(dbsession, org, name, language="en", departments=(), default=False):
    template_set = TemplateSet(
        organisation_id=org.id,
        name=name,
        language=language,
        is_default=default,
        departments=list(departments),
        templates=[Template(kind=k, subject=f"{name} {k}", body=f"{name} body") for k in KINDS],
    )
    dbsession.add(template_set)
    dbsession.flush()
    return template_set


@pytest.fixture
def gp_admin_app(webtest, login, clinic_oost):
    app = webtest("clinic")
    login(app, clinic_oost.gp_admin)
    return app


def test_a_department_admin_sees_only_their_departments_sets(gp_admin_app, clinic_oost, dbsession):
    org, gp, physio = clinic_oost.org, clinic_oost.gp, clinic_oost.physio
    own = _stored_set(dbsession, org, "GP own", departments=[gp])
    shared = _stored_set(dbsession, org, "Shared", language="nl", departments=[gp, physio])
    other = _stored_set(dbsession, org, "Physio only", departments=[physio])
    default = _stored_set(dbsession, org, "Org default", language="de", default=True)
    token = _form(gp_admin_app.get(f"/mail-templates/{own.id}"))["csrf_token"].value
    page = gp_admin_app.get("/mail-templates")
    assert "GP own" in page.text
    for hidden in ("Shared", "Physio only", "Org default"):
        assert hidden not in page.text
    # Another department's (or the organisation's) set is a 404 by its id.
    for foreign in (shared, other, default):
        gp_admin_app.get(f"/mail-templates/{foreign.id}", status=404)
        gp_admin_app.get(f"/mail-templates/{foreign.id}/preview", status=404)
        gp_admin_app.post(
            f"/mail-templates/{foreign.id}/delete",
            {"csrf_token": token},
            status=404,
        )
    assert len(_sets(dbsession)) == 4
    gp_admin_app.get(f"/mail-templates/{own.id}/preview", status=200)


def test_a_department_admin_edits_and_adds_for_their_department_only(
    gp_admin_app, clinic_oost, dbsession
):
    org, gp, physio = clinic_oost.org, clinic_oost.gp, clinic_oost.physio
    own = _stored_set(dbsession, org, "GP own", departments=[gp])
    form = _form(gp_admin_app.get(f"/mail-templates/{own.id}"))
    assert "is_default" not in form.fields
    assert [value for value, _sel, _label in form["departments"].options] == [str(gp.id)]
    form["name"] = "GP renamed"
    form.submit(status=303)
    # A new set is the department's, whatever is sent; never the default.
    form = _new(gp_admin_app, "GP Swedish", language="sv")
    form["departments"].force_value([str(physio.id)])
    form.submit(status=200)  # not a department they may choose
    form = _new(gp_admin_app, "GP Swedish", language="sv")
    fields = dict(form.submit_fields())
    fields["is_default"] = "y"
    fields.pop("departments", None)
    gp_admin_app.post("/mail-templates/new", fields, status=303)
    saved = {s.name: s for s in _sets(dbsession)}
    assert set(saved) == {"GP renamed", "GP Swedish"}
    assert [d.name for d in saved["GP Swedish"].departments] == ["GP"]
    assert saved["GP Swedish"].is_default is False


def test_a_department_admins_menu_has_the_templates(gp_admin_app):
    page = gp_admin_app.get("/mail-templates")
    assert 'href="/mail-templates"' in page.text


def test_search_filters_and_pages(admin_app, clinic_oost, dbsession):
    org, gp, physio = clinic_oost.org, clinic_oost.gp, clinic_oost.physio
    _stored_set(dbsession, org, "Physio Dutch", language="nl", departments=[physio])
    _stored_set(dbsession, org, "GP Dutch", language="nl", departments=[gp])
    _stored_set(dbsession, org, "GP English", language="en", departments=[gp])
    _stored_set(dbsession, org, "Default English", language="en", default=True)

    def names(**params):
        page = admin_app.get("/mail-templates", params)
        return [
            name
            for name in ("Physio Dutch", "GP Dutch", "GP English", "Default English")
            if f"<td>{name}</td>" in page.text
        ]

    assert names(q="dutch") == ["Physio Dutch", "GP Dutch"]
    assert names(language="en") == ["GP English", "Default English"]
    assert names(department=str(gp.id)) == ["GP Dutch", "GP English"]
    assert names(department="none") == ["Default English"]
    assert names(q="gp", language="nl") == ["GP Dutch"]
    # Nonsense filters are ignored rather than refused with an error page.
    assert len(names(language="xx", department="12abc", page="-3")) == 4
    assert "No template set matches" in admin_app.get("/mail-templates", {"q": "zzz"}).text
    for n in range(30):
        _stored_set(dbsession, org, f"Bulk {n:02}", language="sv")
    first = admin_app.get("/mail-templates", {"language": "sv"})
    assert "Bulk 00" in first.text and "Bulk 29" not in first.text
    second = first.click(description="Next")
    assert "Bulk 29" in second.text and "Bulk 00" not in second.text


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
    assert message["Subject"] == "Clinic Oost: Tuesday, 5 March 2030 10:00"
    assert body_of(message).startswith("Dear A. de Vries, come at 10:00: http://clinic.")
