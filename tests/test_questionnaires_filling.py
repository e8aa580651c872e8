"""Clients fill in questionnaires (plugins/questionnaires): staff attach one
on the appointment form, the invitation carries its link
(``*|questionnaire_link|*``), the client saves part, leaves, resumes and
sends; a required one is a step before the waiting room, refused on the
server until finished; bad input on every field type and upload gets a
message at the field and saves nothing; the answers are encrypted at rest."""

import io

from consultroom_questionnaires.models import Image, Response, Status
from PIL import Image as PILImage
from questionnaires_support import (  # noqa: F401 (fixtures)
    EVERY_TYPE,
    build,
    clinic_fixture,
    kek_fixture,
    keys_by_label,
    questionnaire,
    responses,
    staff,
)
from sqlalchemy import select

from consultroom.appointments.models import Appointment
from consultroom.db import utcnow

from clientmail_support import body_of, path_on
from clients_support import post


def _template_form(page):
    return next(f for f in page.forms.values() if "invitation_subject" in f.fields)


def save_template_with_link(app):
    form = _template_form(app.get("/mail-templates/new?language=en"))
    form["name"] = "With questionnaire"
    form["is_default"] = True
    form["invitation_body"] = "Please fill in: *|questionnaire_link|* Then: *|consult_deeplink|*"
    form.submit(status=303)


def book_with(app, clinic, qid, required="default"):
    data = {
        "client_id": clinic["client"].id,
        "practitioner_id": clinic["doctor"].id,
        "date": "2030-03-05",
        "start_time": "10:00",
        "duration_minutes": "20",
        "message": "",
        "questionnaires_questionnaire": str(qid),
        "questionnaires_required": required,
    }
    return post(app, "/appointments/new", data, status=303)


def png(size=(20, 10)):
    out = io.BytesIO()
    PILImage.new("RGB", size, (200, 10, 10)).save(out, format="PNG")
    return out.getvalue()


def fill_form(page):
    return next(f for f in page.forms.values() if "action" in f.fields)


def test_staff_attach_the_client_saves_part_resumes_and_sends(
    clinic, webtest, login, smtp, dbsession
):
    admin = staff(webtest, login, clinic["admin"])
    save_template_with_link(admin)
    qid = build(admin)
    keys = keys_by_label(questionnaire(dbsession, qid).latest)
    book_with(admin, clinic, qid)
    [response] = responses(dbsession)
    assert (response.status, response.required, response.client_id) == (
        Status.new,
        False,
        clinic["client"].id,
    )
    [message] = smtp.messages
    link = body_of(message).split("Please fill in: ")[1].split()[0]
    path = path_on(link, "quest")
    assert path == f"/q/{response.token}"

    client = webtest("quest")
    page = client.get(path)
    assert page.headers["Cache-Control"] == "no-store"
    form = fill_form(page)
    form[keys["Your GP"]] = "Dr. Bakker"
    form[keys["Complaints"]] = "A rash on my arm"
    form[keys["Allergies"]] = ["Pollen", "Nuts"]
    form[keys["Country of birth"]] = "NL"
    form[keys["Photo of the rash"]] = ("rash.png", png())
    saved = form.submit("action", value="save", status=303).follow()
    assert "Saved." in saved.text
    response = responses(dbsession)[0]
    assert response.status is Status.started
    # Encrypted at rest: the answer is not in the stored bytes.
    assert b"rash on my arm" not in response.answers and b"Bakker" not in response.answers
    [image] = dbsession.scalars(select(Image)).all()
    assert b"PNG" not in image.data

    # The client comes back later: what they answered is there.
    again = webtest("quest").get(path)
    assert "An image was uploaded" in again.html.get_text()
    form = fill_form(again)
    assert form[keys["Your GP"]].value == "Dr. Bakker"
    assert form[keys["Country of birth"]].value == "NL"
    # Sending without the required date of birth: a message, still started.
    refused = form.submit("action", value="finish", status=400)
    assert "Please answer this question." in refused.text
    assert responses(dbsession)[0].status is Status.started
    form = fill_form(refused)
    assert form[keys["Complaints"]].value == "A rash on my arm"  # nothing lost
    form[keys["Date of birth"]] = "1980-02-29"
    form[keys["Weight in kg"]] = "72,5"
    form[keys["Pregnant"]] = "no"
    done = form.submit("action", value="finish", status=303).follow()
    assert "Thank you: your answers were sent" in done.text
    response = responses(dbsession)[0]
    assert response.status is Status.finished and response.finished_at is not None
    # Finished: the form is gone, posting changes nothing.
    assert fill_form_missing(webtest("quest").get(path))


def fill_form_missing(page):
    return not any("action" in f.fields for f in page.forms.values())


BAD = [
    ("Your GP", "x" * 201, "Write at most 200 characters"),
    ("Complaints", "y" * 5001, "Write at most 5000 characters"),
    ("Smoking", "Sometimes", "Choose one of the options."),
    ("Allergies", "Cats", "Choose one of the options."),
    ("Blood group", "Z", "Choose one of the options."),
    ("Date of birth", "31-12-1980", "Write the date as year-month-day"),
    ("Date of birth", "1800-01-01", "Give a date from 1900 to 2200."),
    ("Weight in kg", "seventy", "Write a number"),
    ("Weight in kg", "1e400", "Write a number"),
    ("Pregnant", "maybe", "Choose yes or no."),
    ("Country of birth", "XX", "Choose a country from the list."),
    ("Your GP", "Dr.\x00Evil", "Remove the control characters"),
]


def test_bad_input_on_every_field_type_is_refused_and_nothing_is_saved(
    clinic, webtest, login, dbsession
):
    admin = staff(webtest, login, clinic["admin"])
    qid = build(admin)
    keys = keys_by_label(questionnaire(dbsession, qid).latest)
    book_with(admin, clinic, qid)
    token = responses(dbsession)[0].token
    client = webtest("quest")
    csrf = fill_form(client.get(f"/q/{token}"))["csrf_token"].value
    for label, value, message in BAD:
        for action in ("save", "finish"):
            page = client.post(
                f"/q/{token}",
                [("csrf_token", csrf), ("action", action), (keys[label], value)],
                status=400,
            )
            text = page.html.get_text()
            assert message in text, (label, value)
            error = page.html.select_one(f"#{keys[label]}-error")
            assert error is not None and message in error.get_text()
            response = responses(dbsession)[0]
            assert response.status is Status.new and response.answers is None
    uploads = [
        (("rash.png", b"not an image at all"), "This file is not an image we can read."),
        (("rash.png", b"GIF89a" + b"\0" * 40), "This file is not an image we can read."),
        (("big.png", b"\x89PNG" + b"\0" * (10 * 1024 * 1024 + 10)), "The file is larger than"),
    ]
    for upload, message in uploads:
        page = client.post(
            f"/q/{token}",
            [("csrf_token", csrf), ("action", "save"), (keys["Your GP"], "kept")],
            upload_files=[(keys["Photo of the rash"], *upload)],
            status=400,
        )
        assert message in page.html.get_text()
        assert page.html.select_one(f"#{keys['Your GP']}")["value"] == "kept"
        assert dbsession.scalar(select(Image.id)) is None
        assert responses(dbsession)[0].answers is None
    # A post without the form's token is refused.
    client.post(f"/q/{token}", {"action": "save", keys["Your GP"]: "x"}, status=400)
    assert responses(dbsession)[0].answers is None


def test_a_required_questionnaire_holds_the_client_before_the_waiting_room(
    clinic, webtest, login, dbsession
):
    admin = staff(webtest, login, clinic["admin"])
    qid = build(admin, fields=EVERY_TYPE[2:4])
    keys = keys_by_label(questionnaire(dbsession, qid).latest)
    book_with(admin, clinic, qid, required="required")
    [response] = responses(dbsession)
    assert response.required
    appointment = dbsession.get(Appointment, response.appointment_id)
    appointment.starts_at = utcnow().replace(second=0, microsecond=0)
    dbsession.flush()
    client = webtest("quest")
    page = client.get(f"/c/{appointment.token}")
    assert page.html.find(id="realtime-config") is None
    [step] = page.html.select("[data-step]")
    assert (step["data-step"], step["data-done"]) == (f"questionnaires.{response.id}", "no")
    form = fill_form(page.click("Continue: Intake"))
    form[keys["Your GP"]] = "Dr. Bakker"
    back = form.submit("action", value="finish", status=303)
    assert back.location == f"http://quest.consultroom.test/c/{appointment.token}"
    assert client.get(f"/c/{appointment.token}").html.find(id="realtime-config") is not None


def test_an_optional_questionnaire_is_no_step(clinic, webtest, login, dbsession):
    admin = staff(webtest, login, clinic["admin"])
    qid = build(admin, fields=EVERY_TYPE[2:4])
    book_with(admin, clinic, qid, required="optional")
    [response] = responses(dbsession)
    appointment = dbsession.get(Appointment, response.appointment_id)
    appointment.starts_at = utcnow().replace(second=0, microsecond=0)
    dbsession.flush()
    page = webtest("quest").get(f"/c/{appointment.token}").html
    assert page.find(id="realtime-config")
    # The waiting page offers it to fill in while waiting.
    link = page.select_one(".questionnaires-todo a")
    assert link["href"] == f"/q/{response.token}" and link.get_text() == "Intake"


def test_the_appointment_form_refuses_another_departments_or_organisations_questionnaire(
    clinic, webtest, login, dbsession, make_organisation, make_user, enable_plugin
):
    from consultroom.accounts.models import Role

    admin = staff(webtest, login, clinic["admin"])
    physio = build(admin, "Physio", EVERY_TYPE[2:3], department=str(clinic["physio"].id))
    other = make_organisation("other")
    enable_plugin(other, "questionnaires")
    theirs = build(staff(webtest, login, make_user(other, role=Role.org_admin), "other"))
    doctor = staff(webtest, login, clinic["doctor"])
    clinic["org"].settings = {"strict_departments": True}
    dbsession.flush()
    page = doctor.get("/appointments/new")
    offered = [o.get_text() for o in page.html.select("#questionnaires_questionnaire option")]
    assert "Anamnesis" in offered and "Physio" not in offered
    for qid in (physio, theirs, 999999, "x"):
        page = book_refused(doctor, clinic, qid)
        assert "Choose one of the questionnaires." in page.html.get_text()
    page = post(doctor, "/appointments/new", {"questionnaires_required": "sometimes"}, status=200)
    assert responses(dbsession) == []
    assert dbsession.scalars(select(Response)).all() == []


def book_refused(app, clinic, qid):
    data = {
        "client_id": clinic["client"].id,
        "practitioner_id": clinic["doctor"].id,
        "date": "2030-03-05",
        "start_time": "10:00",
        "duration_minutes": "20",
        "message": "",
        "questionnaires_questionnaire": str(qid),
        "questionnaires_required": "default",
    }
    return post(app, "/appointments/new", data, status=200)


def test_a_wrong_or_another_organisations_token_opens_nothing(
    clinic, webtest, login, dbsession, make_organisation, make_user, enable_plugin
):
    admin = staff(webtest, login, clinic["admin"])
    qid = build(admin, fields=EVERY_TYPE[2:3])
    book_with(admin, clinic, qid)
    token = responses(dbsession)[0].token
    other = make_organisation("other")
    enable_plugin(other, "questionnaires")
    webtest("other").get(f"/q/{token}", status=404)
    webtest("quest").get(f"/q/{'x' * 43}", status=404)
    enable_plugin(clinic["org"], "questionnaires", enabled=False)
    webtest("quest").get(f"/q/{token}", status=404)


def test_the_pages_script_saves_as_the_client_goes(clinic, webtest, login, dbsession):
    admin = staff(webtest, login, clinic["admin"])
    qid = build(admin, fields=EVERY_TYPE[2:5])
    keys = keys_by_label(questionnaire(dbsession, qid).latest)
    book_with(admin, clinic, qid)
    token = responses(dbsession)[0].token
    client = webtest("quest")
    page = client.get(f"/q/{token}")
    assert page.html.select_one('script[src="/questionnaires-static/autosave.js"]')
    assert client.get("/questionnaires-static/autosave.js").content_type.endswith("javascript")
    csrf = fill_form(page)["csrf_token"].value
    headers = {"X-Requested-With": "autosave"}
    saved = client.post(
        f"/q/{token}",
        {"csrf_token": csrf, "action": "save", keys["Your GP"]: "Dr. Bakker"},
        headers=headers,
    )
    assert saved.json == {"saved": True}
    assert responses(dbsession)[0].status is Status.started
    refused = client.post(
        f"/q/{token}",
        {"csrf_token": csrf, "action": "save", keys["Smoking"]: "Sometimes"},
        headers=headers,
        status=400,
    )
    assert refused.json == {"problems": {keys["Smoking"]: "Choose one of the options."}}
    assert responses(dbsession)[0].status is Status.started  # the refused one saved nothing
    assert fill_form(client.get(f"/q/{token}"))[keys["Your GP"]].value == "Dr. Bakker"


def test_a_disabled_plugin_asks_no_step_and_its_answers_come_back(
    clinic, webtest, login, dbsession, enable_plugin
):
    admin = staff(webtest, login, clinic["admin"])
    qid = build(admin, fields=EVERY_TYPE[2:3])
    book_with(admin, clinic, qid, required="required")
    [response] = responses(dbsession)
    appointment = dbsession.get(Appointment, response.appointment_id)
    appointment.starts_at = utcnow().replace(second=0, microsecond=0)
    dbsession.flush()
    enable_plugin(clinic["org"], "questionnaires", enabled=False)
    assert webtest("quest").get(f"/c/{appointment.token}").html.find(id="realtime-config")
    enable_plugin(clinic["org"], "questionnaires")
    assert webtest("quest").get(f"/c/{appointment.token}").html.find(id="realtime-config") is None
    assert [r.id for r in responses(dbsession)] == [response.id]


def test_editing_the_appointment_keeps_or_replaces_its_questionnaire(
    clinic, webtest, login, dbsession
):
    admin = staff(webtest, login, clinic["admin"])
    first = build(admin, "First", EVERY_TYPE[2:3])
    second = build(admin, "Second", EVERY_TYPE[2:3])
    book_with(admin, clinic, first)
    [response] = responses(dbsession)
    # Deleted since (hidden: a client has it): the edit form still shows it.
    post(admin, f"/questionnaires/{first}/delete", {}, status=303)
    edit = f"/appointments/{response.appointment_id}/edit"
    form = next(
        f for f in admin.get(edit).forms.values() if "questionnaires_questionnaire" in f.fields
    )
    assert form["questionnaires_questionnaire"].value == str(first)
    form.submit(status=303)
    assert [r.id for r in responses(dbsession)] == [response.id]  # kept
    # Another one replaces it while the client has not started...
    form = next(
        f for f in admin.get(edit).forms.values() if "questionnaires_questionnaire" in f.fields
    )
    form["questionnaires_questionnaire"] = str(second)
    form.submit(status=303)
    [replaced] = responses(dbsession)
    assert replaced.questionnaire_id == second
    # ...but one they started stays beside the next.
    replaced.status = Status.started
    dbsession.flush()
    form = next(
        f for f in admin.get(edit).forms.values() if "questionnaires_questionnaire" in f.fields
    )
    form["questionnaires_questionnaire"] = ""
    form.submit(status=303)
    assert [r.id for r in responses(dbsession)] == [replaced.id]


def test_the_waiting_list_shows_whether_the_questionnaire_was_sent(
    clinic, webtest, login, dbsession, app
):
    from consultroom.realtime import user_channel
    from consultroom.realtime.bus import message_bus
    from consultroom.waitingroom.models import WAITING, Visit

    from clientmail_support import org_request

    admin = staff(webtest, login, clinic["admin"])
    qid = build(admin, fields=EVERY_TYPE[3:4])  # nothing required
    book_with(admin, clinic, qid, required="optional")
    [response] = responses(dbsession)

    def badges():
        with org_request(app, "quest") as request:
            appointment = request.dbsession.get(Appointment, response.appointment_id)
            found = request.hooks.consultroom_waiting_list_annotations(
                request=request, appointments=[appointment]
            )
            return [(b.appointment_id, b.text, b.tone) for result in found for b in result or []]

    assert badges() == [(response.appointment_id, "Questionnaire not sent", "warning")]
    # The client waits; sending it shows the new badge in the staff's lists.
    dbsession.add(
        Visit(
            organisation_id=clinic["org"].id,
            appointment_id=response.appointment_id,
            practitioner_id=clinic["doctor"].id,
            state=WAITING,
            arrived_at=utcnow(),
            connected=True,
        )
    )
    dbsession.flush()
    heard = []
    bus = message_bus(app.registry)
    bus.subscribe(user_channel(clinic["doctor"].id), heard.append)
    try:
        form = fill_form(webtest("quest").get(f"/q/{response.token}"))
        form.submit("action", value="finish", status=303)
    finally:
        bus.unsubscribe(user_channel(clinic["doctor"].id), heard.append)
    assert badges() == [(response.appointment_id, "Questionnaire sent", "ok")]
    [message] = heard
    assert message["type"] == "_entry"
    assert message["entry"]["annotations"] == [{"text": "Questionnaire sent", "tone": "ok"}]
