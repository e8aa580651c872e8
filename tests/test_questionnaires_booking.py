# ruff: noqa: F811 (the fixtures imported from the widget tests are arguments here)
"""The booking widget gives questionnaires (plugins/questionnaires): a
questionnaire marked for the booking widget, of the organisation or of the
practitioner's department, is named on the details page, attached to the
booked appointment, and linked from the last page to fill in at once; one
of another department is not; without the plugin, nothing."""

from consultroom_questionnaires import service
from consultroom_questionnaires.models import Response
from questionnaires_support import kek_fixture  # noqa: F401 (fixture)
from sqlalchemy import select
from test_booking import (  # noqa: F401 (fixtures)
    department,
    details_page,
    fill,
    frozen,
    org,
    practitioner,
)

from clientmail_support import org_request


def _questionnaire(app_, title, department_id, **flags):
    with org_request(app_, "acme") as request:
        made = service.create(
            request,
            title,
            department_id,
            False,
            [
                {
                    "key": "f0123456789",
                    "type": "short_text",
                    "label": "Your GP",
                    "help": "",
                    "required": True,
                    "options": [],
                }
            ],
        )
        for name, value in flags.items():
            setattr(made, name, value)
        return made.id


def test_a_booking_gets_the_widgets_questionnaires(
    app, webtest, practitioner, department, org, dbsession, enable_plugin, kek
):
    from consultroom.tenancy.models import Department

    enable_plugin(org, "questionnaires")
    other = Department(organisation_id=org.id, name="Speech")
    dbsession.add(other)
    dbsession.flush()
    ours = _questionnaire(app, "Physio intake", department.id, for_booking=True)
    _questionnaire(app, "Speech intake", other.id, for_booking=True)
    _questionnaire(app, "Walk-in only", None, for_walk_in=True)
    visitor = webtest("acme")
    page = details_page(visitor, practitioner)
    assert "After this you fill in: Physio intake." in page.text
    done = fill(page.forms[0]).submit()
    assert "Your appointment is booked" in done.text
    dbsession.expire_all()
    [response] = dbsession.scalars(select(Response)).all()
    assert response.questionnaire_id == ours and response.appointment_id is not None
    link = done.html.select_one(".questionnaires-fill-now a")
    assert link["href"] == f"/q/{response.token}" and link["target"] == "_top"
    assert "Your GP" in visitor.get(link["href"]).text


def test_without_the_plugin_the_widget_gives_nothing(
    app, webtest, practitioner, department, org, dbsession, enable_plugin, kek
):
    enable_plugin(org, "questionnaires")
    _questionnaire(app, "Physio intake", department.id, for_booking=True)
    enable_plugin(org, "questionnaires", enabled=False)
    visitor = webtest("acme")
    page = details_page(visitor, practitioner)
    assert "After this you fill in" not in page.text
    done = fill(page.forms[0]).submit()
    assert "Your appointment is booked" in done.text
    dbsession.expire_all()
    assert dbsession.scalars(select(Response)).all() == []
