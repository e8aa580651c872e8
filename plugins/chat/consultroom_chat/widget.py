"""The public chat widget: a page of the organisation's site that its own web
sites may show in an iframe (the embed origins under "Widgets"), where a
visitor gives a name, optionally an e-mail address, and writes; then their
conversation, live over the page's socket (role ``chat.visitor``).

Only where the organisation enabled chat and its setting "public chat
widget" is on (404 elsewhere). Like the core's booking and walk-in widgets
it uses no session: its forms carry the widgets' own form token
(``consultroom.widgets.embed``), and the conversation is opened by a signed
token in its address (``consultroom_chat.visitors``).
"""

import wtforms
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config
from wtforms import validators as v

from consultroom.web.forms import EmailAddress, Form
from consultroom.widgets.embed import TOKEN_FIELD, check_form_token, embeddable, form_token
from consultroom_chat import service, visitors
from consultroom_chat.i18n import _, page
from consultroom_chat.models import Author
from consultroom_chat.settings import settings_of

FORM = "chat-widget"
TEMPLATES = "consultroom_chat:templates/"
GONE = _("This conversation has ended or its address has expired. You can start a new one.")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class StartForm(Form):
    name = wtforms.StringField(
        _("Your name"),
        [v.DataRequired(message=_("Give your name.")), v.Length(max=200)],
        filters=[_strip],
    )
    email = wtforms.StringField(
        _("Your e-mail address (optional)"),
        [v.Optional(), v.Length(max=254), EmailAddress()],
        filters=[_strip],
        description=_("Only to tell you that we answered; never with the answer itself."),
    )
    text = wtforms.TextAreaField(
        _("Your message"),
        [v.DataRequired(message=_("Write a message first.")), v.Length(max=service.MAX_LENGTH)],
        filters=[_strip],
    )


def _open_widget(request):
    """Frameable by the organisation's sites, and there only where the
    organisation has the public widget on."""
    embeddable(request)
    if not settings_of(request)["public_widget"]:
        raise HTTPNotFound()


def _values(request, **values):
    on_duty = bool(visitors.on_duty_ids(request.dbsession, request.organisation.id))
    return page(
        request, on_duty=on_duty, token_field=TOKEN_FIELD, token=form_token(request, FORM), **values
    )


# require_csrf=False: the widget's forms carry their own token (widgets.embed).
@view_config(route_name="chat.widget", renderer=TEMPLATES + "widget.html", require_csrf=False)
def start(request):
    _open_widget(request)
    form = StartForm(request)
    if request.method == "POST":
        check_form_token(request, FORM)
        if form.validate():
            try:
                conversation, message = visitors.start(
                    request, form.name.data, form.email.data, form.text.data
                )
            except service.Invalid as exc:
                form.add_error("text", exc.args[0])
            else:
                visitors.announce(request, conversation, message)
                token = visitors.token_for(request.registry, conversation, visitors.PAGE)
                return HTTPSeeOther(request.route_path("chat.widget_conversation", token=token))
    return _values(request, form=form)


def _conversation(request):
    organisation_id = request.organisation.id
    found = visitors.conversation_id_of(
        request.registry, organisation_id, request.matchdict["token"], visitors.PAGE
    )
    return visitors.find(request.dbsession, organisation_id, found) if found else None


@view_config(
    route_name="chat.widget_conversation",
    renderer=TEMPLATES + "widget_conversation.html",
    require_csrf=False,
)
def conversation(request):
    _open_widget(request)
    # The token in the address opens the conversation: no caches, no Referer.
    request.response.cache_control = "no-store"
    request.response.headers["Referrer-Policy"] = "no-referrer"
    found = _conversation(request)
    if found is None:
        request.response.status = 404
        request.override_renderer = TEMPLATES + "widget.html"
        return _values(request, form=StartForm(request, bind=False), notice=GONE)
    error = None
    if request.method == "POST":
        check_form_token(request, FORM)
        try:
            message = visitors.write(
                request, found, Author.visitor, found.visitor_name, request.POST.get("text")
            )
        except service.Invalid as exc:
            error = exc.args[0]
        else:
            visitors.announce(request, found, message)
            return HTTPSeeOther(request.path)
    history = service.history(request, found)  # the visitor's own: not a staff read
    found.client_read_id = max([found.client_read_id, *(m["id"] for m in history)])
    socket_token = visitors.token_for(request.registry, found, visitors.SOCKET)
    realtime = {
        "ws": "/ws",
        "hello": {"type": "hello", "role": "chat.visitor", "token": socket_token},
    }
    return _values(request, conversation=found, history=history, error=error, realtime=realtime)


def includeme(config):
    config.add_plugin_route("chat.widget", "/chat/widget")
    config.add_plugin_route("chat.widget_conversation", "/chat/widget/{token}")
    config.scan(".widget")
