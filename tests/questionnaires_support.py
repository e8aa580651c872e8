"""Shared set-up of the questionnaires plugin's tests (plugins/questionnaires):
a clinic with two departments that enabled the plugin, a key encryption
key in the settings, and helpers to build questionnaires through the
editor's pages and read what the database holds."""

import base64
import os

import pytest
from consultroom_questionnaires import crypto
from consultroom_questionnaires.models import Questionnaire, Response
from sqlalchemy import select

from consultroom.accounts.models import Role
from consultroom.tenancy.models import Department

from clients_support import make_client, post

# One field of every type, as the editor's "Add a field" form posts it.
EVERY_TYPE = [
    {"type": "title", "label": "About you"},
    {"type": "paragraph", "label": "Please answer honestly.", "help": "It takes five minutes."},
    {"type": "short_text", "label": "Your GP", "required": "yes"},
    {"type": "long_text", "label": "Complaints", "help": "In your own words."},
    {"type": "single_choice", "label": "Smoking", "options": "Never\nStopped\nYes"},
    {"type": "multiple_choice", "label": "Allergies", "options": "Pollen\nPenicillin\nNuts"},
    {"type": "dropdown", "label": "Blood group", "options": "A\nB\nAB\n0"},
    {"type": "date", "label": "Date of birth", "required": "yes"},
    {"type": "number", "label": "Weight in kg"},
    {"type": "yes_no", "label": "Pregnant"},
    {"type": "country", "label": "Country of birth"},
    {"type": "image", "label": "Photo of the rash"},
]


@pytest.fixture(name="kek")
def kek_fixture(app):
    """A key encryption key of the test's own in the settings, as in an ini file."""
    settings = app.registry.settings
    before = settings.get(crypto.SETTING)
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    settings[crypto.SETTING] = key
    yield key
    if before is None:
        settings.pop(crypto.SETTING, None)
    else:
        settings[crypto.SETTING] = before


@pytest.fixture(name="clinic")
def clinic_fixture(make_organisation, make_user, enable_plugin, dbsession, kek):
    org = make_organisation("quest", language="en")
    gp = Department(organisation_id=org.id, name="GP")
    physio = Department(organisation_id=org.id, name="Physio")
    dbsession.add_all([gp, physio])
    dbsession.flush()
    enable_plugin(org, "questionnaires")
    return {
        "org": org,
        "gp": gp,
        "physio": physio,
        "admin": make_user(org, role=Role.org_admin, name="Olga Admin"),
        "gp_admin": make_user(org, role=Role.dept_admin, name="Greet", department=gp),
        "physio_admin": make_user(org, role=Role.dept_admin, name="Piet", department=physio),
        "doctor": make_user(org, role=Role.practitioner, name="Dr. Smit", department=gp),
        "therapist": make_user(org, role=Role.practitioner, name="Kees", department=physio),
        "client": make_client(
            dbsession, org, "Jansen", departments=[gp], initials="A.", email="a@example.org"
        ),
    }


def staff(webtest, login, user, subdomain="quest"):
    app = webtest(subdomain)
    login(app, user)
    return app


def create(app, title="Intake", department=""):
    page = post(app, "/questionnaires", {"title": title, "department": department}, status=303)
    return int(page.location.rstrip("/").rsplit("/", 1)[-1])


def add_field(app, questionnaire_id, **field):
    return post(app, f"/questionnaires/{questionnaire_id}/fields", field, status=303)


def build(app, title="Intake", fields=EVERY_TYPE, department=""):
    questionnaire_id = create(app, title, department)
    for field in fields:
        add_field(app, questionnaire_id, **field)
    return questionnaire_id


def questionnaire(dbsession, questionnaire_id):
    dbsession.expire_all()
    return dbsession.get(Questionnaire, questionnaire_id)


def keys_by_label(version):
    return {field["label"]: field["key"] for field in version.fields}


def responses(dbsession):
    dbsession.expire_all()
    return dbsession.scalars(select(Response).order_by(Response.id)).all()
