"""Forms of the web pages' editor: a page set's address and look, a page's
content, an image upload."""

import wtforms
from wtforms import validators as v

from consultroom.i18n import _
from consultroom.tenancy.forms import COLOUR
from consultroom.web.forms import Form, options
from consultroom.web.safecss import SafeCSS
from consultroom.webpages.models import WIDGET_BOOKING, WIDGET_NONE, WIDGET_WALK_IN
from consultroom.webpages.service import clean_html

NO_IMAGE = 0
RICH_TEXT_HELP = _(
    "Paragraphs, headings (h2 to h4), lists, links, bold and italic in HTML;"
    " anything else is removed."
)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _lower(value):
    return value.strip().lower() if isinstance(value, str) else value


def _colour(label):
    return wtforms.StringField(label, [v.InputRequired(), COLOUR], filters=[_strip])


def _image_choices(images):
    return options([(NO_IMAGE, _("No image")), *((i.id, i.name) for i in images)])


class PageSetForm(Form):
    name = wtforms.StringField(_("Name"), [v.DataRequired(), v.Length(max=200)], filters=[_strip])
    slug = wtforms.StringField(
        _("Address"),
        [v.InputRequired(), v.Length(max=63)],
        filters=[_lower],
        description=_(
            "Lowercase letters, digits and hyphens. Once published, the pages are at"
            " this name as a subdomain and under /site/ on your own address."
        ),
    )
    header_image = wtforms.SelectField(_("Header image"), coerce=int, choices=[])
    primary_colour = _colour(_("Main colour"))
    background_colour = _colour(_("Background colour"))
    text_colour = _colour(_("Text colour"))
    menu_background = _colour(_("Menu background colour"))
    menu_text = _colour(_("Menu text colour"))
    custom_css = wtforms.TextAreaField(
        _("Advanced: your own CSS"),
        [v.Optional(), SafeCSS()],
        description=_(
            "A safe part of CSS: no @import and no addresses of other sites."
            " Images from the media library can be used by their address."
        ),
    )

    def __init__(self, request, images, **kwargs):
        super().__init__(request, **kwargs)
        self.header_image.choices = _image_choices(images)


class PageForm(Form):
    menu_title = wtforms.StringField(
        _("Name in the menu"), [v.DataRequired(), v.Length(max=60)], filters=[_strip]
    )
    title = wtforms.StringField(_("Heading"), [v.Optional(), v.Length(max=200)], filters=[_strip])
    main_text = wtforms.TextAreaField(
        _("Main text"),
        [v.Optional(), v.Length(max=50000)],
        filters=[clean_html],
        description=RICH_TEXT_HELP,
    )
    main_image = wtforms.SelectField(_("Image beside the main text"), coerce=int, choices=[])
    widget = wtforms.SelectField(_("Widget on the page"), choices=[])
    subtext = wtforms.TextAreaField(
        _("Text below the widget"),
        [v.Optional(), v.Length(max=20000)],
        filters=[clean_html],
        description=RICH_TEXT_HELP,
    )

    def __init__(self, request, images, walk_in_widgets, **kwargs):
        super().__init__(request, **kwargs)
        self.main_image.choices = _image_choices(images)
        self.widget.choices = options(
            [
                (WIDGET_NONE, _("No widget")),
                (WIDGET_BOOKING, _("Booking widget")),
                *((widget_choice(WIDGET_WALK_IN, w.id), w.name) for w in walk_in_widgets),
            ]
        )


def widget_choice(kind, walk_in_widget_id=None):
    """The widget select's value for a page's widget (none when its walk-in
    widget was deleted)."""
    if kind == WIDGET_WALK_IN:
        return f"{kind}:{walk_in_widget_id}" if walk_in_widget_id else WIDGET_NONE
    return kind


def parse_widget_choice(value):
    """``(kind, walk-in widget id or None)`` of a (validated) select value."""
    kind, _colon, widget_id = value.partition(":")
    return kind, int(widget_id) if widget_id else None


class ImageForm(Form):
    name = wtforms.StringField(_("Name"), [v.DataRequired(), v.Length(max=200)], filters=[_strip])
    image = wtforms.FileField(
        _("Image"),
        description=_("PNG, JPEG, GIF or WebP, at most 5 MB; scaled to fit 2000 × 2000 pixels."),
    )
