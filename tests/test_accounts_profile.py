"""The profile page: name, phone, language, department, photo and password."""

import io
import re

import pytest
from PIL import Image
from sqlalchemy import inspect, select
from webtest import Upload

from consultroom.accounts.models import Role, User
from consultroom.tenancy.models import Department
from consultroom.testing import PASSWORD, password_matches

NEW_PASSWORD = "another good password"


@pytest.fixture
def org(make_organisation):
    return make_organisation("acme", name="Acme Clinic")


@pytest.fixture
def user(org, make_user):
    return make_user(org, name="Piet Prac", phone="020 123")


@pytest.fixture
def me(webtest, login, user):
    """A browser logged in as ``user``."""
    browser = webtest("acme")
    login(browser, user)
    return browser


def profile_form(page):
    return [f for f in page.forms.values() if f.action == "/profile"][0]


def password_form(page):
    return [f for f in page.forms.values() if f.action == "/profile/password"][0]


def errors_of(page):
    return re.findall(r'<p class="error" role="alert">([^<]*)</p>', page.text)


def png(width, height, colour=(200, 30, 30)):
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


def fresh(dbsession, user):
    dbsession.refresh(user)
    return user


# --- details -------------------------------------------------------------------


def test_change_name_phone_and_language(me, user, dbsession):
    form = profile_form(me.get("/profile"))
    assert form["name"].value == "Piet Prac"
    assert form["phone"].value == "020 123"
    assert form["language"].value == "en"
    form["name"], form["phone"], form["language"] = "  Piet Renamed ", "+31 (0)20-555 1234", "nl"
    response = form.submit(status=303)
    assert response.location.endswith("/profile")
    saved = fresh(dbsession, user)
    assert (saved.name, saved.phone, saved.language) == ("Piet Renamed", "+31 (0)20-555 1234", "nl")
    page = response.follow()
    assert '<html lang="nl" ' in page.text
    assert "Piet Renamed" in page.text


def test_language_is_used_on_every_later_visit(me, user, webtest, login, dbsession):
    form = profile_form(me.get("/profile"))
    form["language"] = "de"
    form.submit(status=303)
    assert '<html lang="de" ' in me.get("/").text
    # ...and after logging in again elsewhere.
    other = webtest("acme")
    login(other, fresh(dbsession, user))
    assert '<html lang="de" ' in other.get("/").text


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("phone", "call me", "Use digits, spaces and + ( ) - only."),
        ("phone", "1" * 51, "Field cannot be longer than 50 characters."),
        ("name", "", "This field is required."),
        ("name", "    ", "This field is required."),
        ("name", "n" * 201, "Field cannot be longer than 200 characters."),
    ],
)
def test_invalid_details_are_refused_clearly(me, user, dbsession, field, value, message):
    form = profile_form(me.get("/profile"))
    form["language"] = "nl"
    form["photo"] = Upload("me.png", png(10, 10), "image/png")
    form[field] = value
    page = form.submit(status=200)
    assert message in errors_of(page)
    saved = fresh(dbsession, user)
    assert (saved.name, saved.phone, saved.language, saved.photo) == (
        "Piet Prac",
        "020 123",
        "en",
        None,
    )


def test_unknown_language_is_refused(me, user, dbsession):
    form = profile_form(me.get("/profile"))
    form["language"].force_value("xx")
    page = form.submit(status=200)
    assert "Not a valid choice." in page.text
    assert fresh(dbsession, user).language == "en"


def test_only_org_admins_choose_their_department(webtest, login, org, make_user, dbsession):
    dept = Department(organisation_id=org.id, name="Cardio")
    dbsession.add(dept)
    dbsession.flush()
    admin = make_user(org, role=Role.org_admin)
    prac = make_user(org, role=Role.practitioner)

    app = webtest("acme")
    login(app, admin)
    form = profile_form(app.get("/profile"))
    form["department_id"] = str(dept.id)
    form.submit(status=303)
    assert fresh(dbsession, admin).department_id == dept.id

    app = webtest("acme")
    login(app, prac)
    page = app.get("/profile")
    form = profile_form(page)
    assert "department_id" not in form.fields
    # A posted department is ignored.
    app.post(
        "/profile",
        {
            "csrf_token": form["csrf_token"].value,
            "name": prac.name,
            "language": "en",
            "department_id": str(dept.id),
        },
        status=303,
    )
    assert fresh(dbsession, prac).department_id is None


def test_profile_needs_a_login(webtest, org):
    assert "/login" in webtest("acme").get("/profile", status=302).location


def test_profile_post_without_csrf_token_is_form_expired(me, user, dbsession):
    page = me.post("/profile", {"name": "Hacked", "language": "en"}, status=400)
    assert "Form expired" in page.text
    assert fresh(dbsession, user).name == "Piet Prac"


# --- photo ---------------------------------------------------------------------


def test_photo_is_stored_scaled_and_served(me, user, dbsession):
    form = profile_form(me.get("/profile"))
    form["photo"] = Upload("me.png", png(800, 400), "image/png")
    form.submit(status=303)
    stored = fresh(dbsession, user).photo
    assert stored
    page = me.get("/profile")
    assert f'src="/staff/{user.id}/photo"' in page.text
    response = me.get(f"/staff/{user.id}/photo")
    assert response.content_type == "image/png"
    with Image.open(io.BytesIO(response.body)) as image:
        assert image.format == "PNG"
        assert image.size == (256, 128)
        assert image.getpixel((100, 60))[:3] == (200, 30, 30)


def test_photo_is_loaded_only_when_read(org, make_user, dbsession):
    make_user(org, name="With photo").photo = png(10, 10)
    make_user(org, name="Without")
    dbsession.flush()
    dbsession.expire_all()
    users = dbsession.scalars(select(User).where(User.organisation_id == org.id)).all()
    assert all("photo" not in inspect(u).dict for u in users)
    assert sorted((u.name, u.has_photo) for u in users) == [
        ("With photo", True),
        ("Without", False),
    ]
    assert next(u for u in users if u.has_photo).photo.startswith(b"\x89PNG")


def _photo_reads(statements):
    """The statements that read a photo's bytes (``has_photo`` reads only
    whether it is there: ``photo IS NOT NULL``)."""
    return [s for s in statements if re.search(r"\bphoto\b(?! IS NOT NULL)", s)]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_the_profile_page_does_not_read_the_photo(me, user, dbsession, statements, method):
    user.photo = png(200, 200)
    dbsession.flush()
    page = me.get("/profile")
    statements.clear()
    if method == "GET":
        page = me.get("/profile")
    else:  # a form with an error is shown again, and still shows the photo
        form = profile_form(page)
        form["name"] = ""
        page = form.submit(status=200)
        assert errors_of(page)
    assert f'src="/staff/{user.id}/photo"' in page.text
    assert any("photo IS NOT NULL" in s for s in statements)
    assert _photo_reads(statements) == []
    assert _photo_reads(["SELECT user_account.photo \nFROM user_account"])  # what it looks for


@pytest.mark.parametrize("fmt", ["JPEG", "GIF", "WEBP"])
def test_other_image_formats_are_accepted_as_png(me, user, dbsession, fmt):
    out = io.BytesIO()
    Image.new("RGB", (300, 300), (0, 0, 255)).save(out, format=fmt)
    form = profile_form(me.get("/profile"))
    form["photo"] = Upload(f"me.{fmt.lower()}", out.getvalue(), f"image/{fmt.lower()}")
    form.submit(status=303)
    with Image.open(io.BytesIO(fresh(dbsession, user).photo)) as image:
        assert image.format == "PNG" and image.size == (256, 256)


def test_small_photo_is_not_enlarged(me, user, dbsession):
    form = profile_form(me.get("/profile"))
    form["photo"] = Upload("me.png", png(40, 30), "image/png")
    form.submit(status=303)
    with Image.open(io.BytesIO(fresh(dbsession, user).photo)) as image:
        assert image.size == (40, 30)


def test_colleagues_see_the_photo_other_organisations_do_not(
    me, user, webtest, login, make_user, make_organisation, org
):
    form = profile_form(me.get("/profile"))
    form["photo"] = Upload("me.png", png(50, 50), "image/png")
    form.submit(status=303)
    colleague = webtest("acme")
    login(colleague, make_user(org))
    assert colleague.get(f"/staff/{user.id}/photo").content_type == "image/png"
    stranger = webtest("beta")
    login(stranger, make_user(make_organisation("beta")))
    stranger.get(f"/staff/{user.id}/photo", status=404)
    assert webtest("acme").get(f"/staff/{user.id}/photo", status=302)


def test_no_photo_is_404(me, user):
    me.get(f"/staff/{user.id}/photo", status=404)


def test_remove_photo(me, user, dbsession):
    form = profile_form(me.get("/profile"))
    form["photo"] = Upload("me.png", png(50, 50), "image/png")
    form.submit(status=303)
    assert fresh(dbsession, user).photo
    form = profile_form(me.get("/profile"))
    form["remove_photo"] = True
    form.submit(status=303)
    assert fresh(dbsession, user).photo is None
    me.get(f"/staff/{user.id}/photo", status=404)


def test_saving_without_a_new_photo_keeps_the_old_one(me, user, dbsession):
    form = profile_form(me.get("/profile"))
    form["photo"] = Upload("me.png", png(50, 50), "image/png")
    form.submit(status=303)
    before = fresh(dbsession, user).photo
    form = profile_form(me.get("/profile"))
    form["name"] = "New Name"
    form.submit(status=303)
    assert fresh(dbsession, user).photo == before


def _too_big_png():
    # Random pixels do not compress: comfortably over 2 MB, yet a valid PNG.
    import os

    image = Image.frombytes("RGB", (1000, 1000), os.urandom(3_000_000))
    out = io.BytesIO()
    image.save(out, format="PNG")
    data = out.getvalue()
    assert len(data) > 2 * 1024 * 1024
    return data


@pytest.mark.parametrize(
    "upload, message",
    [
        (
            lambda: Upload("notes.txt", b"just some text\n", "text/plain"),
            "This file is not an image we can read.",
        ),
        (
            lambda: Upload("me.png", b"\x89PNG\r\n\x1a\n" + b"garbage" * 100, "image/png"),
            "This file is not an image we can read.",
        ),
        (
            lambda: Upload("me.jpg", b"\xff\xd8\xff\xe0 not really a jpeg", "image/jpeg"),
            "This file is not an image we can read.",
        ),
        (lambda: Upload("me.png", _too_big_png(), "image/png"), "The file is larger than 2048 KB."),
        (lambda: Upload("me.bmp", _bmp(), "image/bmp"), "Upload a PNG, JPEG, GIF or WebP image."),
    ],
)
def test_bad_photo_is_refused_clearly_and_changes_nothing(me, user, dbsession, upload, message):
    form = profile_form(me.get("/profile"))
    form["photo"] = Upload("me.png", png(50, 50), "image/png")
    form.submit(status=303)
    before = fresh(dbsession, user).photo

    form = profile_form(me.get("/profile"))
    form["name"], form["language"] = "Changed Name", "nl"
    form["photo"] = upload()
    page = form.submit(status=200)
    assert message in errors_of(page)
    saved = fresh(dbsession, user)
    assert (saved.name, saved.language, saved.photo) == ("Piet Prac", "en", before)


def _bmp():
    out = io.BytesIO()
    Image.new("RGB", (20, 20)).save(out, format="BMP")
    return out.getvalue()


# --- password -------------------------------------------------------------------


def change_password(me, current, password, confirm=None):
    form = password_form(me.get("/profile"))
    form["current"], form["password"] = current, password
    form["confirm"] = password if confirm is None else confirm
    return form.submit()


def test_change_password(me, user, dbsession, webtest, login):
    response = change_password(me, PASSWORD, NEW_PASSWORD)
    assert response.status_int == 303
    assert "Your password is changed." in response.follow().text
    saved = fresh(dbsession, user)
    assert saved.password_hash.startswith("$argon2")
    assert password_matches(saved, NEW_PASSWORD) and not password_matches(saved, PASSWORD)
    login(webtest("acme"), saved, password=NEW_PASSWORD)


@pytest.mark.parametrize(
    "current, password, confirm, message",
    [
        ("wrong password", NEW_PASSWORD, NEW_PASSWORD, "This is not your current password."),
        ("", NEW_PASSWORD, NEW_PASSWORD, "This field is required."),
        (PASSWORD, "short", "short", "Field must be between 10 and 1000 characters long."),
        (PASSWORD, "123456789", "123456789", "Field must be between 10 and 1000 characters long."),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "!", "The passwords differ."),
        (PASSWORD, "", "", "This field is required."),
    ],
)
def test_bad_password_change_is_refused_clearly(
    me, user, dbsession, current, password, confirm, message
):
    before = fresh(dbsession, user).password_hash
    page = change_password(me, current, password, confirm)
    assert page.status_int == 200
    assert message in errors_of(page)
    assert fresh(dbsession, user).password_hash == before
    # The page still has both forms, the details form filled in.
    assert profile_form(page)["name"].value == "Piet Prac"


def test_ten_characters_is_long_enough(me, user, dbsession):
    assert change_password(me, PASSWORD, "0123456789").status_int == 303
    assert password_matches(fresh(dbsession, user), "0123456789")
