"""The questionnaire editor of the questionnaires plugin (plugins/questionnaires):
organisation admins keep every questionnaire, department admins their own
department's; every field type with its label, help text and required
flag; moving fields up and down; duplicate, delete and preview; clear
messages for bad input with nothing saved; versions once clients answered;
other organisations' ids and a disabled plugin answer 404, and the data
stays for a re-enable."""

from consultroom_questionnaires import service
from consultroom_questionnaires.models import Questionnaire, Status
from questionnaires_support import (  # noqa: F401 (fixtures)
    EVERY_TYPE,
    build,
    clinic_fixture,
    create,
    kek_fixture,
    keys_by_label,
    questionnaire,
    staff,
)
from sqlalchemy import func, select

from clients_support import post


def count(dbsession, model):
    dbsession.expire_all()
    return dbsession.scalar(select(func.count(model.id)))


def test_an_admin_builds_a_questionnaire_with_every_field_type(clinic, webtest, login, dbsession):
    app = staff(webtest, login, clinic["admin"])
    menu = app.get("/").html.select("nav.menu a")
    assert "/questionnaires" in [a["href"] for a in menu]
    qid = build(app)
    version = questionnaire(dbsession, qid).latest
    assert [f["type"] for f in version.fields] == [f["type"] for f in EVERY_TYPE]
    by_label = {f["label"]: f for f in version.fields}
    assert by_label["Your GP"]["required"] is True
    assert by_label["Complaints"]["help"] == "In your own words."
    assert by_label["Smoking"]["options"] == ["Never", "Stopped", "Yes"]
    assert by_label["About you"]["required"] is False  # a title asks nothing

    editor = app.get(f"/questionnaires/{qid}")
    assert len(editor.html.select("li[data-field]")) == len(EVERY_TYPE)
    preview = app.get(f"/questionnaires/{qid}/preview").html
    assert preview.select_one("h2").get_text() == "About you"
    assert preview.select_one("input[type=date]") is not None
    assert preview.select_one("input[type=file]") is not None
    assert len(preview.select(f"input[name={by_label['Smoking']['key']}][type=radio]")) == 3
    country = preview.select_one(f"select[name={by_label['Country of birth']['key']}]")
    assert "Netherlands" in country.get_text() and "European Union" not in country.get_text()
    assert preview.select_one("[data-preview] button") is None  # nothing to send


def test_fields_change_move_with_buttons_and_delete(clinic, webtest, login, dbsession):
    app = staff(webtest, login, clinic["admin"])
    qid = build(app, fields=EVERY_TYPE[2:5])
    keys = [f["key"] for f in questionnaire(dbsession, qid).latest.fields]
    moved = post(app, f"/questionnaires/{qid}/fields/{keys[2]}", {"action": "up"}, status=303)
    assert moved.location.endswith(f"#field-{keys[2]}")
    post(app, f"/questionnaires/{qid}/fields/{keys[0]}", {"action": "down"}, status=303)
    order = [f["key"] for f in questionnaire(dbsession, qid).latest.fields]
    assert order == [keys[2], keys[0], keys[1]]
    # Moving the first up does nothing harmful.
    post(app, f"/questionnaires/{qid}/fields/{keys[2]}", {"action": "up"}, status=303)
    post(
        app,
        f"/questionnaires/{qid}/fields/{keys[1]}",
        {"action": "save", "label": "What hurts?", "help": "Where", "required": "yes"},
        status=303,
    )
    post(app, f"/questionnaires/{qid}/fields/{keys[0]}", {"action": "delete"}, status=303)
    fields = questionnaire(dbsession, qid).latest.fields
    assert [(f["key"], f["label"], f["required"]) for f in fields] == [
        (keys[2], "Smoking", False),
        (keys[1], "What hurts?", True),
    ]
    assert questionnaire(dbsession, qid).latest.number == 1  # nobody answered: no new version
    # The buttons name what they move, for screen readers.
    editor = app.get(f"/questionnaires/{qid}").html
    assert editor.select_one(f"#field-{keys[1]} button[value=up]")["aria-label"] == (
        "Move What hurts? up"
    )


def test_bad_input_gets_clear_messages_and_saves_nothing(clinic, webtest, login, dbsession):
    app = staff(webtest, login, clinic["admin"])
    before = count(dbsession, Questionnaire)  # the default anamnesis
    page = post(app, "/questionnaires", {"title": "  "}, status=400)
    assert "Give the questionnaire a title." in page.text
    page = post(app, "/questionnaires", {"title": "x" * 201}, status=400)
    assert "at most 200 characters" in page.text
    page = post(app, "/questionnaires", {"title": "A\x00b"}, status=400)
    assert count(dbsession, Questionnaire) == before

    qid = create(app)
    fields = f"/questionnaires/{qid}/fields"
    cases = [
        ({"type": "short_text", "label": ""}, "Write the field's label."),
        ({"type": "single_choice", "label": "Pick", "options": "only one"}, "at least two options"),
        (
            {"type": "dropdown", "label": "Pick", "options": "\n".join(map(str, range(60)))},
            "at most 50",
        ),
        ({"type": "spaceship", "label": "Pick"}, "Choose a field type."),
        ({"type": "short_text", "label": "L" * 301}, "at most 300 characters"),
        ({"type": "short_text", "label": "ok", "help": "\x07"}, "control characters"),
    ]
    for data, message in cases:
        page = post(app, fields, data, status=400)
        assert message in page.html.get_text(), data
        # What was typed is shown again, nothing is lost.
        if data.get("label"):
            assert page.html.select_one("#new-label")["value"] == data["label"]
    assert questionnaire(dbsession, qid).latest.fields == []
    build_key = build(app, fields=EVERY_TYPE[4:5])
    key = questionnaire(dbsession, build_key).latest.fields[0]["key"]
    page = post(
        app,
        f"/questionnaires/{build_key}/fields/{key}",
        {"label": "", "options": "a\nb"},
        status=400,
    )
    assert "Write the field's label." in page.html.get_text()
    assert questionnaire(dbsession, build_key).latest.fields[0]["label"] == "Smoking"
    post(app, f"/questionnaires/{build_key}/fields/{key}", {"action": "explode"}, status=404)
    post(app, f"/questionnaires/{build_key}/fields/f0123456789", {"action": "up"}, status=404)


def test_posts_without_the_csrf_token_are_refused(clinic, webtest, login, dbsession):
    app = staff(webtest, login, clinic["admin"])
    before = count(dbsession, Questionnaire)
    app.post("/questionnaires", {"title": "No token"}, status=400)
    qid = create(app)
    app.post(f"/questionnaires/{qid}/delete", {}, status=400)
    assert count(dbsession, Questionnaire) == before + 1


def test_duplicate_and_delete(clinic, webtest, login, dbsession):
    app = staff(webtest, login, clinic["admin"])
    qid = build(app, fields=EVERY_TYPE[:3])
    copy = post(app, f"/questionnaires/{qid}/duplicate", {}, status=303)
    copy_id = int(copy.location.rsplit("/", 1)[-1])
    original, copied = questionnaire(dbsession, qid), questionnaire(dbsession, copy_id)
    assert copied.title == "Intake (copy)"
    assert copied.latest.fields == original.latest.fields
    post(app, f"/questionnaires/{copy_id}/delete", {}, status=303)
    assert questionnaire(dbsession, copy_id) is None  # nobody answered it: gone
    assert "Intake (copy)" not in app.get("/questionnaires").text


def test_editing_an_answered_questionnaire_makes_a_new_version(
    clinic, webtest, login, dbsession, app
):
    admin = staff(webtest, login, clinic["admin"])
    qid = build(admin, fields=EVERY_TYPE[2:5])
    first = questionnaire(dbsession, qid).latest
    started, untouched = (
        service.attach(_Req(dbsession, clinic["org"]), first.questionnaire, clinic["client"].id)
        for _ in range(2)
    )
    key = first.fields[0]["key"]
    assert "clients have answered" not in admin.get(f"/questionnaires/{qid}").text
    started.status = Status.started
    dbsession.flush()
    assert "clients have answered" in admin.get(f"/questionnaires/{qid}").text
    post(admin, f"/questionnaires/{qid}/fields/{key}", {"label": "Your doctor"}, status=303)
    assert "Version 2 — answers given to earlier" in admin.get(f"/questionnaires/{qid}").text
    q = questionnaire(dbsession, qid)
    assert [v.number for v in q.versions] == [1, 2]
    assert q.versions[0].fields[0]["label"] == "Your GP"  # as the client answered it
    assert q.versions[1].fields[0]["label"] == "Your doctor"
    dbsession.refresh(started), dbsession.refresh(untouched)
    assert started.version_id == q.versions[0].id
    assert untouched.version_id == q.versions[1].id  # not started: gets the new one
    # A second edit goes to the same new version.
    post(admin, f"/questionnaires/{qid}", {"title": "Intake 2"}, status=303)
    assert [v.title for v in questionnaire(dbsession, qid).versions] == ["Intake", "Intake 2"]
    # Deleting it hides it; the answered version stays.
    post(admin, f"/questionnaires/{qid}/delete", {}, status=303)
    assert questionnaire(dbsession, qid).deleted_at is not None
    assert len(questionnaire(dbsession, qid).versions) == 2
    admin.get(f"/questionnaires/{qid}", status=404)


class _Req:
    """What service.attach needs of a request: the session and organisation."""

    def __init__(self, dbsession, organisation):
        self.dbsession, self.organisation = dbsession, organisation


def test_department_admins_keep_their_own_departments_questionnaires(
    clinic, webtest, login, dbsession
):
    admin = staff(webtest, login, clinic["admin"])
    whole = create(admin, "For everyone")
    physio = create(admin, "Physio intake", department=str(clinic["physio"].id))
    greet = staff(webtest, login, clinic["gp_admin"])
    assert "/questionnaires" in [a["href"] for a in greet.get("/").html.select("nav.menu a")]
    page = post(greet, "/questionnaires", {"title": "GP", "department": ""}, status=400)
    assert "Choose one of the departments." in page.text
    page = post(
        greet,
        "/questionnaires",
        {"title": "GP", "department": str(clinic["physio"].id)},
        status=400,
    )
    mine = create(greet, "GP intake", department=str(clinic["gp"].id))
    listing = greet.get("/questionnaires").text
    assert (
        "GP intake" in listing and "Physio intake" not in listing and "For everyone" not in listing
    )
    for other in (whole, physio):
        greet.get(f"/questionnaires/{other}", status=404)
        greet.get(f"/questionnaires/{other}/preview", status=404)
        post(greet, f"/questionnaires/{other}/delete", {}, status=404)
        post(greet, f"/questionnaires/{other}/fields", {"type": "title", "label": "x"}, status=404)
    assert questionnaire(dbsession, mine).department_id == clinic["gp"].id
    # Practitioners have no editor.
    doctor = staff(webtest, login, clinic["doctor"])
    doctor.get("/questionnaires", status=403)
    assert "/questionnaires" not in [a["href"] for a in doctor.get("/").html.select("nav.menu a")]


def test_another_organisations_ids_are_404(
    clinic, webtest, login, dbsession, make_organisation, make_user, enable_plugin
):
    from consultroom.accounts.models import Role

    other = make_organisation("other")
    enable_plugin(other, "questionnaires")
    theirs = build(
        staff(webtest, login, make_user(other, role=Role.org_admin), "other"),
        fields=EVERY_TYPE[2:3],
    )
    key = questionnaire(dbsession, theirs).latest.fields[0]["key"]
    app = staff(webtest, login, clinic["admin"])
    for url in (f"/questionnaires/{theirs}", f"/questionnaires/{theirs}/preview"):
        app.get(url, status=404)
    for url, data in (
        (f"/questionnaires/{theirs}", {"title": "mine"}),
        (f"/questionnaires/{theirs}/fields", {"type": "title", "label": "x"}),
        (f"/questionnaires/{theirs}/fields/{key}", {"action": "delete"}),
        (f"/questionnaires/{theirs}/duplicate", {}),
        (f"/questionnaires/{theirs}/delete", {}),
    ):
        post(app, url, data, status=404)
    q = questionnaire(dbsession, theirs)
    assert q.title == "Intake" and len(q.latest.fields) == 1 and q.deleted_at is None


def test_a_disabled_plugin_is_404_and_its_questionnaires_come_back(
    clinic, webtest, login, dbsession, enable_plugin
):
    app = staff(webtest, login, clinic["admin"])
    qid = build(app, fields=EVERY_TYPE[2:3])
    enable_plugin(clinic["org"], "questionnaires", enabled=False)
    app.get("/questionnaires", status=404)
    app.get(f"/questionnaires/{qid}", status=404)
    assert "/questionnaires" not in [a["href"] for a in app.get("/").html.select("nav.menu a")]
    enable_plugin(clinic["org"], "questionnaires")
    assert "Intake" in app.get("/questionnaires").text
    assert len(questionnaire(dbsession, qid).latest.fields) == 1


def test_the_settings_say_which_widgets_give_the_questionnaire(clinic, webtest, login, dbsession):
    app = staff(webtest, login, clinic["admin"])
    qid = create(app)
    post(
        app,
        f"/questionnaires/{qid}",
        {"title": "Intake", "required": "yes", "for_booking": "yes"},
        status=303,
    )
    q = questionnaire(dbsession, qid)
    assert (q.required, q.for_booking, q.for_walk_in) == (True, True, False)
    page = app.get(f"/questionnaires/{qid}").html
    assert page.select_one("#q-for-booking").has_attr("checked")
    assert not page.select_one("#q-for-walk-in").has_attr("checked")


def test_country_names_come_from_babel_in_the_readers_language():
    from consultroom_questionnaires import fieldtypes

    dutch = dict(fieldtypes.countries("nl"))
    assert dutch["NL"] == "Nederland" and dutch["DE"] == "Duitsland"
    assert "EU" not in dutch and "001" not in dutch and "ZZ" not in dutch
    swedish = fieldtypes.countries("sv")
    names = [name for _code, name in swedish]
    assert names == sorted(
        names, key=lambda n: fieldtypes.unicodedata.normalize("NFKD", n).casefold()
    )
    field = {"type": "country", "key": "f0123456789"}
    assert fieldtypes.readable(field, "SE", str, "de") == "Schweden"
    assert dict(fieldtypes.countries("xx-nonsense"))["NL"] == "Netherlands"
