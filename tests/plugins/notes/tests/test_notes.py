from consultroom.accounts.models import Role


def test_notes_only_for_organisations_that_enabled_them(
    webtest, make_organisation, make_user, enable_plugin, login
):
    on, off = make_organisation("on"), make_organisation("off")
    enable_plugin(on, "notes")
    app_on, app_off = webtest("on"), webtest("off")
    login(app_on, make_user(on, role=Role.practitioner))
    login(app_off, make_user(off, role=Role.practitioner))

    page = app_on.get("/notes")
    page.forms[1]["text"] = "call back Tuesday"  # forms[0] is the logout form
    assert "call back Tuesday" in page.forms[1].submit().follow().text
    app_off.get("/notes", status=404)
    assert 'href="/notes"' not in app_off.get("/").text
