# ruff: noqa: F811 (the fixtures imported from the widget tests are arguments here)
"""The walk-in widget gives questionnaires (plugins/questionnaires): a
questionnaire marked for walk-ins, of the organisation or of the chosen
practitioner's department, is named on the intake page and attached to the
walk-in; a required one is the step the visitor finishes before the
waiting room."""

from consultroom_questionnaires import service
from consultroom_questionnaires.models import Response, Status
from questionnaires_support import kek_fixture  # noqa: F401 (fixture)
from sqlalchemy import select
from test_walk_in import departments, frozen, org, staff, widget  # noqa: F401 (fixtures)

from clientmail_support import org_request


def test_a_walk_in_fills_in_the_required_questionnaire_before_the_waiting_room(
    webtest, org, staff, widget, departments, dbsession, enable_plugin, kek
):
    enable_plugin(org, "questionnaires")
    with org_request(webtest("acme").app, "acme") as request:
        made = service.create(
            request,
            "Walk-in intake",
            departments[0].id,
            True,
            [
                {
                    "key": "f0123456789",
                    "type": "yes_no",
                    "label": "Fever?",
                    "help": "",
                    "required": True,
                    "options": [],
                }
            ],
        )
        made.for_walk_in = True
        service.create(request, "Speech only", departments[1].id, True).for_walk_in = True
    app = webtest("acme")
    page = app.get(f"/walk-in/{widget.public_id}").click("Pia Physio")
    assert "After this you fill in: Walk-in intake." in page.text
    form = page.forms[0]
    form["last_name"], form["date_of_birth"], form["terms"] = "Visser", "1980-02-03", True
    link = form.submit(status=303).follow()
    dbsession.expire_all()
    [response] = dbsession.scalars(select(Response)).all()
    assert response.required and response.status is Status.new
    [step] = link.html.select("[data-step]")
    assert step["data-done"] == "no"
    fill = link.click("Continue: Walk-in intake")
    form = next(f for f in fill.forms.values() if "action" in f.fields)
    form["f0123456789"] = "no"
    back = form.submit("action", value="finish", status=303)
    assert app.get(back.location).html.find(id="realtime-config") is not None
