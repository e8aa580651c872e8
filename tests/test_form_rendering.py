"""How form fields become HTML: WTForms renders them with
``consultroom.web.forms.html_params`` (the same attributes, escaped alike,
as WTForms' own, which since 3.3 costs ten times as much: ``Markup.format``),
and the form macros a select's options with ``consultroom.web.select_options``;
and what a form filled from an object reads of it."""

import functools
import importlib.util
from types import SimpleNamespace

import pytest
import wtforms
import wtforms.widgets.core
from markupsafe import Markup
from webob.multidict import MultiDict

from consultroom.accounts.models import Role
from consultroom.tenancy.timezones import ZONES
from consultroom.web import forms


@functools.cache
def _wtforms_own():
    """WTForms' html_params as its module defines it, from a fresh copy of
    the module (importing consultroom.web.forms replaced the loaded one's)."""
    path = wtforms.widgets.core.__file__
    spec = importlib.util.spec_from_file_location("wtforms_widgets_fresh", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.html_params


class Html:
    def __repr__(self):
        return "Html()"  # the same test id on every xdist worker

    def __html__(self):
        return '<b title="x">'


VALUES = [
    "plain",
    "",
    "<script>&'\"</script>",
    Markup('<a href="#">x</a>'),
    Html(),
    0,
    42,
    1.5,
    None,
    True,
    False,
    "x\x00\n\t",
]
NAMES = ["id", "class_", "for_", "data_live_count", "aria_describedby", "data-x", "a<b", "z"]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_each_attribute_is_written_as_wtforms_writes_it(value):
    wtforms_own = _wtforms_own()
    for name in NAMES:
        ours, theirs = forms.html_params(**{name: value}), wtforms_own(**{name: value})
        assert (ours, type(ours)) == (theirs, type(theirs))


def test_many_attributes_in_wtforms_order():
    attributes = dict(zip(NAMES, VALUES, strict=False), name="n", required=True, readonly=False)
    assert forms.html_params(**attributes) == _wtforms_own()(**attributes)
    assert forms.html_params() == _wtforms_own()() == Markup("")


def test_wtforms_widgets_and_labels_use_it():
    core = wtforms.widgets.core
    assert core.html_params is wtforms.widgets.html_params is forms.html_params
    assert core.Input.html_params is core.Button.html_params is forms.html_params

    class Sample(wtforms.Form):
        name = wtforms.StringField("Name <&>", render_kw={"data_x": 'a"b'})
        kind = wtforms.SelectField(choices=forms.options([("a", "A & B"), ("b", "<B>")]))
        text = wtforms.TextAreaField()

    form = Sample(MultiDict(name='Jan "J" <&>', kind="b", text="t"))
    assert form.name() == Markup(
        '<input data-x="a&#34;b" id="name" name="name" type="text"'
        ' value="Jan &#34;J&#34; &lt;&amp;&gt;">'
    )
    assert form.name.label() == Markup('<label for="name">Name &lt;&amp;&gt;</label>')
    assert '<option selected value="b">&lt;B&gt;</option>' in form.kind()
    assert form.text() == Markup('<textarea id="text" name="text">\r\nt</textarea>')


# -- select fields: consultroom.web.select_options --------------------------------


@pytest.fixture
def admin_app(make_organisation, make_user, webtest, login):
    org = make_organisation("acme")
    org.timezone = "Europe/Stockholm"
    admin = make_user(org, role=Role.org_admin)
    app = webtest("acme")
    login(app, admin)
    return app, admin


def test_a_select_offers_each_choice_in_order_with_the_current_one_selected(admin_app):
    app, _admin = admin_app
    [select] = app.get("/organisation").html.select("select#timezone")
    options = select.find_all("option")
    assert [o["value"] for o in options] == [o.get_text() for o in options] == ZONES
    assert [o["value"] for o in options if o.has_attr("selected")] == ["Europe/Stockholm"]


def test_a_select_shows_its_choices_in_the_page_s_language(admin_app):
    app, admin = admin_app
    page = app.get(f"/availability/staff/{admin.id}/new", {"_LOCALE_": "nl"})
    weekdays = page.html.select_one("select#weekday").find_all("option")
    assert [(o["value"], o.get_text()) for o in weekdays[:2]] == [
        ("0", "maandag"),
        ("1", "dinsdag"),
    ]


# -- filling a form from an object -------------------------------------------------


def test_a_form_filled_from_an_object_never_reads_its_file_fields_attributes():
    class Stored:
        name = "Acme"

        @property
        def picture(self):
            raise AssertionError("the picture was read")

    class Settings(forms.Form):
        name = wtforms.StringField()
        picture = wtforms.FileField()
        pictures = wtforms.MultipleFileField()

    request = SimpleNamespace(method="GET", POST=MultiDict(), locale_name="en")
    form = Settings(request, obj=Stored())
    assert form.name.data == "Acme"
    assert form.picture.data is None and not form.pictures.data
    assert form.picture() == Markup('<input id="picture" name="picture" type="file">')
