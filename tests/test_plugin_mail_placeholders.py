"""Plugin placeholders in the client e-mails (the hello plugin's
``*|hello_code|*`` and ``*|hello_greeting|*``): offered on the template
pages and accepted in a saved text only where the plugin is enabled,
filled in the e-mail that reaches the SMTP server (with the value the
appointment form saved just before), escaped in the HTML preview, and left
as written (like any unknown placeholder) where the plugin is not enabled."""

import pytest
from sqlalchemy import select

from consultroom.accounts.models import Role
from consultroom.appointments.models import Appointment
from consultroom.clientmail import send_client_mail
from consultroom.clientmail.models import KINDS, Template, TemplateSet

from clientmail_support import body_of, book, org_request
from clients_support import make_client, post

BODY = "Code: *|hello_code|*. Greeting: *|hello_greeting|*. Link: *|consult_deeplink|*"


@pytest.fixture
def clinic(clinic_oost, enable_plugin):
    enable_plugin(clinic_oost.org, "hello")
    return clinic_oost


@pytest.fixture
def admin_app(webtest, login, clinic):
    app = webtest("clinic")
    login(app, clinic.org_admin)
    return app


def _template_form(page):
    return next(f for f in page.forms.values() if "invitation_subject" in f.fields)


def _save_set(app, body=BODY):
    form = _template_form(app.get("/mail-templates/new?language=en"))
    form["name"] = "With hello"
    form["is_default"] = True
    form["invitation_body"] = body
    return form.submit()


def _stored_set(dbsession, org, body=BODY):
    """A default set stored directly, as if saved while the plugin was enabled."""
    templates = [Template(kind=k, subject=f"{k} *|date|*", body=body) for k in KINDS]
    dbsession.add(
        TemplateSet(
            organisation_id=org.id, name="Old", language="en", is_default=True, templates=templates
        )
    )
    dbsession.flush()


def test_the_template_page_offers_the_plugins_placeholders(admin_app):
    page = admin_app.get("/mail-templates/new")
    offered = [code.get_text() for code in page.html.select("dt code")]
    assert "*|hello_code|*" in offered and "*|hello_greeting|*" in offered
    assert "The appointment's hello code" in page.html.get_text()


def test_a_saved_text_reaches_the_client_filled_in(admin_app, clinic, smtp, dbsession):
    _save_set(admin_app).follow()
    data = {
        "client_id": clinic.client.id,
        "practitioner_id": clinic.gp_practitioner.id,
        "date": "2030-03-05",
        "start_time": "10:00",
        "duration_minutes": "20",
        "message": "",
        "hello_code": "ABC",
    }
    post(admin_app, "/appointments/new", data, status=303)  # an organisation admin books too
    [message] = smtp.messages
    body = body_of(message)
    # The form's field was saved before the invitation was written.
    assert body.startswith("Code: ABC. Greeting: Hello (invitation). Link: http://clinic.")


def test_a_declared_placeholder_without_a_value_is_empty(app, clinic, smtp, dbsession):
    _stored_set(dbsession, clinic.org)
    book(app, "clinic", clinic.client.id, clinic.gp_practitioner.id)
    [message] = smtp.messages
    assert body_of(message).startswith("Code: . Greeting: Hello (invitation). Link: http")


def test_the_preview_shows_samples_escaped(admin_app, dbsession):
    _save_set(admin_app).follow()
    [saved] = dbsession.scalars(select(TemplateSet)).all()
    preview = admin_app.get(f"/mail-templates/{saved.id}/preview")
    assert "Code: &lt;XYZ&gt;. Greeting: Hi." in preview.text
    assert "<XYZ>" not in preview.text


def test_without_the_plugin_the_placeholders_are_unknown(
    webtest, login, make_organisation, make_user, dbsession, smtp, app
):
    off = make_organisation("off", name="Off")
    admin = make_user(off, role=Role.org_admin)
    admin_app = webtest("off")
    login(admin_app, admin)
    page = admin_app.get("/mail-templates/new")
    assert "hello_code" not in page.text
    refused = _save_set(admin_app)
    assert refused.status_int == 200
    assert "Unknown placeholder: *|hello_code|*" in refused.text
    assert not dbsession.scalars(
        select(TemplateSet).where(TemplateSet.organisation_id == off.id)
    ).all()
    # A text saved while the plugin was enabled: left as written, as any unknown placeholder.
    _stored_set(dbsession, off)
    doctor = make_user(off, role=Role.practitioner)
    client = make_client(dbsession, off, "Visser", initials="B.", email="b@example.org")
    book(app, "off", client.id, doctor.id)
    [message] = smtp.messages
    assert body_of(message).startswith("Code: *|hello_code|*. Greeting: *|hello_greeting|*.")


def test_the_reminder_fills_them_too(app, clinic, smtp, dbsession):
    _stored_set(dbsession, clinic.org)
    appointment_id = book(app, "clinic", clinic.client.id, clinic.gp_practitioner.id, notify=False)
    with org_request(app, "clinic") as request:
        send_client_mail(request, request.dbsession.get(Appointment, appointment_id), "reminder")
    [message] = smtp.messages
    assert "Greeting: Hello (reminder)." in body_of(message)
