"""Choosing a client by typing, instead of a dropdown of every client: the
pages that offer it cost the same with ten clients as with ten thousand.

A form gets a ``ClientField``. It shows a text field and a hidden field with
the chosen client's id. With JavaScript (static/js/picker.js) the text field
is a combobox that offers the matches of ``/clients/picker`` as you type and
fills in the id. Without it, the text is resolved when the form comes back:
one matching client is chosen; several are offered as a short list to
choose from; none is a clear error. Matching is the client list's search
box (``clients.search``), over the clients the staff member may see
(``clients.access``), so the field shows and accepts nobody else.

The id counts when the text is still that client's label (nothing was
typed since choosing) or that client is among the text's matches (the list
of several); a request with the id and no text at all (a link such as
``?client=12``) chooses by id alone.
"""

import wtforms
from sqlalchemy import func

from consultroom.clients.access import visible_clients
from consultroom.clients.models import Client
from consultroom.clients.search import search_clients
from consultroom.i18n import _

# Matches offered at once: enough to recognise the one meant, few enough
# to read; more means typing more.
OFFERED = 10
TEXT = "_text"  # the text field's name: the field's name plus this


def label(client):
    """How a client is shown in the field: name, number and date of birth
    tell apart clients of the same name."""
    number = f" ({client.client_number})" if client.client_number else ""
    born = f", {client.date_of_birth:%d-%m-%Y}" if client.date_of_birth else ""
    return f"{client.display_name}{number}{born}"


def matching(request, text, limit=OFFERED + 1):
    """The visible clients matching ``text``, in name order, at most ``limit``."""
    query = search_clients(request.dbsession, visible_clients(request), text)
    order = (func.lower(Client.last_name), func.lower(Client.initials), Client.id)
    return request.dbsession.scalars(query.order_by(*order).limit(limit)).all()


def visible_client(request, raw_id):
    """The visible client with id ``raw_id`` (text from a form or a link), or None."""
    raw = raw_id or ""
    if not (raw.isascii() and raw.isdigit() and len(raw) < 10):
        return None
    return request.dbsession.scalar(visible_clients(request).where(Client.id == int(raw)))


def _first(formdata, name):
    values = formdata.getlist(name)
    return values[0] if values else None


class ClientField(wtforms.Field):
    """A client chosen by typing (see the module). ``data`` is the Client or
    None; ``text`` what the text field shows; ``matches`` the clients to
    choose from when the text matched several. ``keep`` (set by the view)
    is a client that stays acceptable though no longer visible: the one an
    appointment being edited already has."""

    def __init__(self, label=None, validators=None, required=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.required = required  # the message when empty, or None: optional
        self.keep = None
        self.text = ""
        self.raw_id = None
        self.matches = []
        if required:
            self.flags.required = True

    label_of = staticmethod(label)

    @property
    def text_name(self):
        return self.name + TEXT

    def process(self, formdata, data=wtforms.utils.unset_value, extra_filters=None):
        self.process_errors = []
        if formdata is None or (self.name not in formdata and self.text_name not in formdata):
            self.data = None if data is wtforms.utils.unset_value else data
            self.text = label(self.data) if self.data is not None else ""
            self.raw_id = None
            return
        self.raw_id = _first(formdata, self.name)
        text = _first(formdata, self.text_name)
        self.text = None if text is None else " ".join(text.replace("\x00", "").split())
        self.data = None

    def pre_validate(self, form):
        if self.raw_id is None and self.text is None:
            return self._check_required()  # not submitted: as on a GET
        request = form.request
        by_id = self._by_id(request)
        if self.text is None:  # a link or a form without the text field
            if self.raw_id and by_id is None:
                raise wtforms.validators.StopValidation(_("Choose one of the options."))
            self.data = by_id
        elif not self.text:
            self.data = None
        elif by_id is not None and self.text == label(by_id):
            self.data = by_id
        else:
            self.data = self._from_text(request, by_id)
        if self.data is not None:
            self.text = label(self.data)
        return self._check_required()

    def _check_required(self):
        if self.data is None and self.required:
            raise wtforms.validators.StopValidation(self.required)

    def _by_id(self, request):
        if self.keep is not None and self.raw_id == str(self.keep.id):
            return self.keep
        return visible_client(request, self.raw_id)

    def _from_text(self, request, by_id):
        found = matching(request, self.text)
        if by_id is not None and by_id in found:
            return by_id
        if len(found) == 1:
            return found[0]
        if not found:
            raise wtforms.validators.StopValidation(
                _(
                    "No client matches “${text}”. Type part of the name, client number or"
                    " e-mail address.",
                    mapping={"text": self.text},
                )
            )
        self.matches = found[:OFFERED]
        raise wtforms.validators.StopValidation(
            _(
                "More than ${n} clients match “${text}”: choose one below, or type more of"
                " the name, client number or e-mail address.",
                mapping={"n": OFFERED, "text": self.text},
            )
            if len(found) > OFFERED
            else _(
                "${n} clients match “${text}”: choose one below.",
                mapping={"n": len(found), "text": self.text},
            )
        )

    def _value(self):
        return "" if self.data is None else str(self.data.id)
