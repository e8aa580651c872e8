"""Web pages: organisation admins make page sets (a main page and up to
three follow-up pages) with images from their media library and one of
their widgets, and publish them on the set's own subdomain and at
/site/<slug>; staff preview them unpublished. Bad input is refused with a
message and nothing saved; another organisation's ids are not found; pages
carry an ETag and answer 304."""

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from consultroom.accounts.models import Role
from consultroom.audit.models import AuditEntry
from consultroom.tenancy.service import subdomain_problem
from consultroom.webpages.models import WebImage, WebPage, WebPageSet
from consultroom.widgets.models import WalkInWidget

pytestmark = pytest.mark.usefixtures("dbsession")


def png(width=400, height=200, colour="red"):
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def org(make_organisation):
    return make_organisation("acme", name="Acme Care")


@pytest.fixture
def other(make_organisation):
    return make_organisation("other", name="Other Care")


@pytest.fixture
def admin_app(webtest, login, make_user, org):
    app = webtest("acme")
    login(app, make_user(org, role=Role.org_admin))
    return app


def count(dbsession, model):
    dbsession.expire_all()
    return dbsession.scalar(select(func.count()).select_from(model))


def form_with(page, field):
    [form] = [f for f in page.forms.values() if field in f.fields]
    return form


def make_image(dbsession, org, name="Header"):
    image = WebImage(organisation_id=org.id, name=name, width=4, height=4, size=10, data=png(4, 4))
    dbsession.add(image)
    dbsession.flush()
    return image


def make_set(dbsession, org, slug="drjanssen", published=True, **kw):
    page_set = WebPageSet(
        organisation_id=org.id,
        name=kw.pop("name", "Dr Janssen"),
        slug=slug,
        published=published,
        **kw,
    )
    page_set.pages = [
        WebPage(
            organisation_id=org.id,
            position=0,
            menu_title="Welcome",
            title="Hello",
            main_text="<p>Main <strong>text</strong></p>",
            widget="booking",
        ),
        WebPage(organisation_id=org.id, position=1, menu_title="Prices", subtext="<p>Cheap</p>"),
    ]
    dbsession.add(page_set)
    dbsession.flush()
    return page_set


def test_admin_builds_and_publishes_a_page_set(admin_app, webtest, dbsession, org):
    page = admin_app.get("/").click("Web pages").click("Media")
    form = form_with(page, "image")
    form["name"] = "Practice front"
    form["image"] = ("front.jpg", png(3000, 1000))
    form.submit(status=303).follow()
    image = dbsession.scalars(select(WebImage)).one()
    assert (image.width, image.height) == (2000, 667)  # fitted into 2000 × 2000

    page = admin_app.get("/webpages").click("New set of web pages")
    form = form_with(page, "slug")
    form["name"] = "Dr Janssen"
    form["slug"] = " DrJanssen "
    form["header_image"] = str(image.id)
    form["menu_background"] = "#00AA00"
    form["custom_css"] = "h1 { color: #123456 }"
    edit = form.submit(status=303).follow()
    page_set = dbsession.scalars(select(WebPageSet)).one()
    assert (page_set.slug, page_set.menu_background, page_set.published) == (
        "drjanssen",
        "#00aa00",
        False,
    )
    assert [p.position for p in page_set.pages] == [0, 1]  # main page and one follow-up

    form = form_with(edit.click("Edit", index=0), "main_text")
    form["title"] = "Online consultation hours"
    form["main_text"] = (
        '<p onclick="steal()">Book <a href="javascript:x()">now</a></p><script>x</script>'
    )
    form["main_image"] = str(image.id)
    form["widget"] = "booking"
    form.submit(status=303)
    dbsession.expire_all()
    main = page_set.pages[0]
    assert main.main_text == '<p>Book <a rel="noopener noreferrer">now</a></p>'
    assert (main.widget, main.main_image_id) == ("booking", image.id)

    visitor = webtest("acme")
    visitor.get("/site/drjanssen", status=404)  # not published yet
    webtest("drjanssen").get("/", status=404)
    preview = admin_app.get(f"/webpages/pages/{main.id}/preview")
    assert preview.headers["Cache-Control"] == "private, no-store"
    assert "Not published" in preview.text

    form_with(admin_app.get(f"/webpages/{page_set.id}"), "published").submit(status=303)
    dbsession.expire_all()
    assert page_set.published
    actions = dbsession.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert [a for a in actions if a.startswith("webpages.")] == [
        "webpages.image_upload",
        "webpages.set_create",
        "webpages.page_change",
        "webpages.publish",
    ]

    for app, home, follow_up in (
        (webtest("drjanssen"), "/", "/1"),
        (webtest("acme"), "/site/drjanssen", "/site/drjanssen/1"),
    ):
        shown = app.get(home)
        assert shown.html.h1.get_text() == "Online consultation hours"
        assert shown.html.select_one(".webpage-text").decode_contents() == main.main_text
        iframe = shown.html.select_one("iframe.webpage-widget")
        assert iframe["src"] == "http://acme.consultroom.test/book"
        assert "frame-src http://acme.consultroom.test" in shown.headers["Content-Security-Policy"]
        menu = [(a.get_text(), a["href"]) for a in shown.html.select(".webpage-menu a")]
        assert menu == [("Dr Janssen", home), ("More information", follow_up)]
        header = shown.html.select_one(".webpage-header img")["src"]
        assert app.get(header).headers["Content-Type"] == "image/png"
        css = shown.html.select('link[rel="stylesheet"]')[1]["href"]
        style = app.get(css)
        assert "--menu-background: #00aa00" in style.text and "#123456" in style.text
        assert app.get(follow_up).html.select_one('[aria-current="page"]').get_text() == (
            "More information"
        )


def test_pages_carry_an_etag_and_answer_304(webtest, dbsession, org):
    make_set(dbsession, org)
    app = webtest("drjanssen")
    first = app.get("/")
    assert first.headers["Cache-Control"] == "public, max-age=60"
    assert "Accept-Language" in first.headers["Vary"]
    etag = first.headers["ETag"]
    assert app.get("/").headers["ETag"] == etag  # nothing per request in the page
    again = app.get("/", headers={"If-None-Match": etag}, status=304)
    assert again.body == b""
    css = first.html.select('link[rel="stylesheet"]')[1]["href"]
    css_etag = app.get(css).headers["ETag"]
    app.get(css, headers={"If-None-Match": css_etag}, status=304)
    # A change gives a new ETag: the old one gets the page again.
    page_set = dbsession.scalars(select(WebPageSet)).one()
    page_set.pages[0].title = "Changed"
    dbsession.flush()
    changed = app.get("/", headers={"If-None-Match": etag}, status=200)
    assert changed.headers["ETag"] != etag and changed.html.h1.get_text() == "Changed"


def test_a_page_sets_subdomain_serves_nothing_else(webtest, dbsession, org, make_user):
    make_set(dbsession, org)
    app = webtest("drjanssen")
    for path in ("/login", "/dashboard", "/book", "/webpages", "/site/drjanssen", "/4"):
        app.get(path, status=404)
    webtest("nosuchset").get("/", status=404)


def test_unpublished_pages_are_previewed_by_staff_only(webtest, login, make_user, dbsession, org):
    page_set = make_set(dbsession, org, published=False)
    main = page_set.pages[0]
    webtest("acme").get("/site/drjanssen", status=404)
    webtest("acme").get("/site/drjanssen/1", status=404)
    webtest("drjanssen").get("/", status=404)
    anonymous = webtest("acme").get(f"/webpages/pages/{main.id}/preview")
    assert anonymous.status_int in (302, 303) and "/login" in anonymous.location
    practitioner = webtest("acme")
    login(practitioner, make_user(org))
    practitioner.get(f"/webpages/pages/{main.id}/preview", status=403)
    admin = webtest("acme")
    login(admin, make_user(org, role=Role.org_admin))
    preview = admin.get(f"/webpages/pages/{page_set.pages[1].id}/preview")
    assert "Preview: only staff see this page." in preview.text
    assert [a["href"] for a in preview.html.select(".webpage-menu a")] == [
        f"/webpages/pages/{p.id}/preview" for p in page_set.pages
    ]
    admin.get(preview.html.select('link[rel="stylesheet"]')[1]["href"])


def test_text_stored_past_the_editor_is_cleaned_when_shown(webtest, dbsession, org):
    page_set = make_set(dbsession, org)
    page_set.pages[1].subtext = '<p onmouseover="x()">Cheap</p><script>alert(1)</script>'
    dbsession.flush()
    shown = webtest("drjanssen").get("/1")
    assert shown.html.select_one(".webpage-subtext").decode_contents() == "<p>Cheap</p>"


SKIP = {
    "en": "Skip to content",
    "nl": "Naar de inhoud",
    "de": "Zum Inhalt springen",
    "sv": "Hoppa till innehållet",
}
PAGES = {"en": "Pages", "nl": "Pagina's", "de": "Seiten", "sv": "Sidor"}


@pytest.mark.parametrize("language", ["en", "nl", "de", "sv"])
def test_pages_render_in_each_language(webtest, dbsession, org, language):
    make_set(dbsession, org)
    page = webtest("drjanssen").get("/", headers={"Accept-Language": language})
    assert page.html.html["lang"] == language
    assert page.html.h1.get_text() == "Hello"  # the organisation's own words as written
    assert page.html.select_one(".skip").get_text() == SKIP[language]
    assert page.html.nav["aria-label"] == PAGES[language]


def test_other_organisations_ids_are_not_found(admin_app, webtest, dbsession, org, other):
    theirs = make_set(dbsession, other, slug="theirs", header_image=make_image(dbsession, other))
    image = theirs.header_image
    theirs_page = theirs.pages[0]
    for path in (
        f"/webpages/{theirs.id}",
        f"/webpages/{theirs.id}/pages/new",
        f"/webpages/pages/{theirs_page.id}",
        f"/webpages/pages/{theirs_page.id}/preview",
        f"/webpages/{theirs.id}/preview.css",
        "/site/theirs",
        "/site/theirs/1",
        "/site/theirs/style.css",
        f"/site-media/{image.public_id}.png",
    ):
        admin_app.get(path, status=404)
    token = admin_app.get("/webpages/media").html.select_one('[name="csrf_token"]')["value"]
    for path in (
        f"/webpages/{theirs.id}/delete",
        f"/webpages/{theirs.id}/publish",
        f"/webpages/pages/{theirs.pages[1].id}/delete",
        f"/webpages/media/{image.id}/delete",
    ):
        admin_app.post(path, {"csrf_token": token, "published": "0"}, status=404)
    assert webtest("other").get(f"/site-media/{image.public_id}.png").content_type == "image/png"
    dbsession.expire_all()
    assert theirs.published and len(theirs.pages) == 2 and count(dbsession, WebImage) == 1
    # Nor can our forms point at their image or walk-in widget.
    mine = make_set(dbsession, org)
    widget = WalkInWidget(organisation_id=other.id, name="Theirs")
    dbsession.add(widget)
    dbsession.flush()
    url = f"/webpages/pages/{mine.pages[0].id}"
    good = dict(form_with(admin_app.get(url), "main_text").submit_fields())
    for values in ({"main_image": str(image.id)}, {"widget": f"walk_in:{widget.id}"}):
        response = admin_app.post(url, {**good, **values}, status=200)
        assert response.html.select(".has-error"), values
    url = f"/webpages/{mine.id}"
    good = dict(form_with(admin_app.get(url), "slug").submit_fields())
    response = admin_app.post(url, {**good, "header_image": str(image.id)}, status=200)
    assert response.html.select("#header_image-help .error")


def errors_of(response, field):
    return [e.get_text() for e in response.html.select(f"#{field}-help .error")]


def test_bad_page_set_settings_are_refused(admin_app, dbsession, org, other):
    make_set(dbsession, other, slug="taken")
    url = "/webpages/new"
    good = dict(form_with(admin_app.get(url), "slug").submit_fields())
    good.update(name="Set", slug="fine")
    cases = [
        ({"name": " "}, "name", "This field is required."),
        ({"slug": ""}, "slug", "This field is required."),
        ({"slug": "-bad-"}, "slug", None),
        ({"slug": "dr janssen"}, "slug", None),
        ({"slug": "x" * 64}, "slug", None),
        ({"slug": "www"}, "slug", "This subdomain is reserved."),
        ({"slug": "taken"}, "slug", "This address is already taken."),
        ({"slug": "other"}, "slug", "This address is already taken."),  # an organisation's
        ({"primary_colour": "red"}, "primary_colour", "Use a colour like #1f6f8b."),
        ({"menu_text": "#12345"}, "menu_text", "Use a colour like #1f6f8b."),
        ({"header_image": "abc"}, "header_image", None),
        ({"header_image": "999999"}, "header_image", None),
        ({"custom_css": "body { background: url(http://evil.example/x.png) }"}, "custom_css", None),
        ({"custom_css": "@import 'http://evil.example/x.css';"}, "custom_css", None),
        ({"custom_css": "p { color: red } </style><script>x</script>"}, "custom_css", None),
        ({"name": "a\x00b"}, "name", None),
    ]
    for values, field, message in cases:
        response = admin_app.post(url, {**good, **values}, status=200)
        errors = errors_of(response, field)
        assert errors and (message is None or errors == [message]), (values, errors)
    assert count(dbsession, WebPageSet) == 1 and count(dbsession, WebPage) == 2
    assert count(dbsession, AuditEntry) == 0


def test_an_address_taken_meanwhile_is_refused(admin_app, dbsession, org, other, monkeypatch):
    """Another set took the address between the check and the save (here:
    the check is skipped): the database's unique index refuses it, with the
    same message."""
    make_set(dbsession, other, slug="taken")
    url = "/webpages/new"
    good = dict(form_with(admin_app.get(url), "slug").submit_fields())
    monkeypatch.setattr("consultroom.webpages.views.slug_problem", lambda *args: None)
    response = admin_app.post(url, {**good, "name": "N" * 200, "slug": "taken"}, status=200)
    assert errors_of(response, "slug") == ["This address is already taken."]
    assert count(dbsession, WebPageSet) == 1 and count(dbsession, WebPage) == 2
    # A long name is cut to fit the main page's menu.
    admin_app.post(url, {**good, "name": "N" * 200, "slug": "free"}, status=303)
    dbsession.expire_all()
    titles = select(WebPage.menu_title).where(WebPage.position == 0).order_by(WebPage.id)
    assert dbsession.scalars(titles).all() == [
        "Welcome",
        "N" * 60,
    ]


def test_bad_page_content_is_refused(admin_app, dbsession, org):
    page_set = make_set(dbsession, org)
    url = f"/webpages/pages/{page_set.pages[0].id}"
    good = dict(form_with(admin_app.get(url), "main_text").submit_fields())
    cases = [
        ({"menu_title": ""}, "menu_title", "This field is required."),
        ({"menu_title": "m" * 61}, "menu_title", None),
        ({"widget": "walk_in:999999"}, "widget", None),
        ({"widget": "nonsense"}, "widget", None),
        ({"main_image": "1.5"}, "main_image", None),
        ({"main_text": "x" * 50001}, "main_text", None),
    ]
    for values, field, message in cases:
        response = admin_app.post(url, {**good, **values}, status=200)
        errors = errors_of(response, field)
        assert errors and (message is None or errors == [message]), (values, errors)
    dbsession.expire_all()
    assert page_set.pages[0].menu_title == "Welcome"


def test_a_bad_new_page_is_not_added(admin_app, dbsession, org):
    page_set = make_set(dbsession, org)
    url = f"/webpages/{page_set.id}/pages/new"
    good = dict(form_with(admin_app.get(url), "main_text").submit_fields())
    for values, field in (({"menu_title": " "}, "menu_title"), ({"widget": "walk_in:"}, "widget")):
        response = admin_app.post(url, {**good, "menu_title": "New", **values}, status=200)
        assert errors_of(response, field), values
    assert count(dbsession, WebPage) == 2


def test_a_page_shows_a_walk_in_widget_until_it_is_deleted(admin_app, webtest, dbsession, org):
    page_set = make_set(dbsession, org)
    widget = WalkInWidget(organisation_id=org.id, name="Walk-in hours")
    dbsession.add(widget)
    dbsession.flush()
    url = f"/webpages/pages/{page_set.pages[1].id}"
    form = form_with(admin_app.get(url), "main_text")
    form["widget"] = f"walk_in:{widget.id}"
    form.submit(status=303)
    shown = webtest("drjanssen").get("/1")
    src = shown.html.select_one("iframe.webpage-widget")["src"]
    assert src == f"http://acme.consultroom.test/walk-in/{widget.public_id}"
    # The walk-in's camera check runs in the frame, on the organisation's
    # origin: this page lets that origin (and only it) have the camera.
    policy = shown.headers["Permissions-Policy"]
    for feature in ("camera", "microphone"):
        assert f'{feature}=(self "http://acme.consultroom.test")' in policy
    assert "display-capture=(self)" in policy and "geolocation=()" in policy
    token = admin_app.get("/widgets").html.select_one('[name="csrf_token"]')["value"]
    admin_app.post(f"/widgets/walk-in/{widget.id}/delete", {"csrf_token": token})
    after = webtest("drjanssen").get("/1")
    assert not after.html.select("iframe") and after.headers["ETag"] != shown.headers["ETag"]
    assert "camera=(self)" in after.headers["Permissions-Policy"]
    # The page's form still opens and saves, with no widget chosen.
    form = form_with(admin_app.get(url), "main_text")
    assert form["widget"].value == ""
    form.submit(status=303)


def test_bad_uploads_are_refused(admin_app, dbsession, org):
    page = admin_app.get("/webpages/media")
    good = dict(form_with(page, "image").submit_fields())
    good["name"] = "Photo"
    cases = [
        ({}, [], "Choose an image to upload."),
        ({}, [("image", "x.png", b"not an image")], "This file is not an image we can read."),
        (
            {},
            [("image", "x.png", b"GIF89a" + b"\0" * 100)],
            "This file is not an image we can read.",
        ),
        (
            {},
            [("image", "big.png", b"\x89PNG" + b"\0" * (5 * 1024 * 1024))],
            "The file is larger than 5120 KB.",
        ),
    ]
    for values, files, message in cases:
        response = admin_app.post(
            "/webpages/media", {**good, **values}, upload_files=files, status=200
        )
        assert errors_of(response, "image") == [message]
    response = admin_app.post(
        "/webpages/media",
        {**good, "name": ""},
        upload_files=[("image", "a.png", png())],
        status=200,
    )
    assert errors_of(response, "name") == ["This field is required."]
    assert count(dbsession, WebImage) == 0


def delete_form(page, image):
    [form] = [f for f in page.forms.values() if f.action.endswith(f"/{image.id}/delete")]
    return form


def test_an_image_in_use_is_not_deleted(admin_app, dbsession, org):
    image = make_image(dbsession, org)
    page_set = make_set(dbsession, org)
    page_set.pages[1].main_image_id = image.id
    dbsession.flush()
    page = admin_app.get("/webpages/media")
    listed = page.html.select_one(".media-list img")["src"]
    assert listed == f"/site-media/{image.public_id}.png"
    page = delete_form(page, image).submit().follow()
    assert "Header is used by Dr Janssen: choose another image there first." in page.text
    assert count(dbsession, WebImage) == 1
    page_set.pages[1].main_image_id = None
    dbsession.flush()
    delete_form(admin_app.get("/webpages/media"), image).submit(status=303)
    assert count(dbsession, WebImage) == 0


def test_up_to_three_follow_up_pages(admin_app, dbsession, org):
    page_set = make_set(dbsession, org)
    for title in ("Team", "Prices 2"):
        form = form_with(admin_app.get(f"/webpages/{page_set.id}/pages/new"), "main_text")
        form["menu_title"] = title
        form.submit(status=303)
    dbsession.expire_all()
    assert [p.menu_title for p in page_set.pages] == ["Welcome", "Prices", "Team", "Prices 2"]
    edit = admin_app.get(f"/webpages/{page_set.id}")
    assert "Add page" not in edit.text
    full = admin_app.get(f"/webpages/{page_set.id}/pages/new").follow()
    assert "A set has at most 3 follow-up pages." in full.text
    # Deleting a follow-up page closes the gap; the main page stays.
    token = edit.html.select_one('[name="csrf_token"]')["value"]
    admin_app.post(f"/webpages/pages/{page_set.pages[1].id}/delete", {"csrf_token": token})
    main_id = page_set.pages[0].id
    dbsession.expire_all()
    assert [(p.position, p.menu_title) for p in page_set.pages] == [
        (0, "Welcome"),
        (1, "Team"),
        (2, "Prices 2"),
    ]
    page = admin_app.post(f"/webpages/pages/{main_id}/delete", {"csrf_token": token}).follow()
    assert "The main page cannot be deleted" in page.text
    admin_app.post(f"/webpages/{page_set.id}/delete", {"csrf_token": token}, status=303)
    assert count(dbsession, WebPageSet) == 0 and count(dbsession, WebPage) == 0


def test_a_page_sets_address_is_no_new_organisations_subdomain(dbsession, org):
    make_set(dbsession, org, published=False)
    assert subdomain_problem(dbsession, "drjanssen") is not None
    assert subdomain_problem(dbsession, "freename") is None


def test_widgets_may_be_framed_by_published_sets(webtest, dbsession, org):
    page_set = make_set(dbsession, org)
    policy = webtest("acme").get("/book").headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' http://drjanssen.consultroom.test" in policy
    page_set.published = False
    dbsession.flush()
    policy = webtest("acme").get("/book").headers["Content-Security-Policy"]
    assert "drjanssen" not in policy


def test_the_menu_shows_web_pages_to_organisation_admins(admin_app, webtest, login, make_user, org):
    assert admin_app.get("/").html.find("a", string="Web pages")
    practitioner = webtest("acme")
    login(practitioner, make_user(org))
    assert not practitioner.get("/").html.find("a", string="Web pages")
    practitioner.get("/webpages", status=403)
