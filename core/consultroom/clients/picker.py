"""Choosing clients and external participants by typing, instead of a
dropdown of every one of them: the pages that offer it cost the same with
ten clients as with ten thousand.

A form gets a ``ClientField`` (one client) or a ``ParticipantsField`` (any
number of external participants). Each shows a text field; the chosen ids
travel in a hidden field (the client) or in ticked boxes (the
participants). With JavaScript (static/js/picker.js) the text field is a
combobox that offers the matches of ``/clients/picker`` or
``/participants/picker`` as you type and fills in the choice. Without it,
the text is resolved when the form comes back: one match is chosen; several
are offered as a short list to choose from; none is a clear error.

Clients are matched by the client list's search box (``clients.search``)
over the clients the staff member may see (``clients.access``), so that the
field shows and accepts nobody else; participants by the participant list's,
over the organisation's.

A client's id counts when the text is still that client's label (nothing
was typed since choosing) or that client is among the text's matches (the
list of several); a request with the id and no text at all (a link such as
``?client=12``) chooses by id alone.
"""

import wtforms
from sqlalchemy import func, select

from consultroom.audit import record
from consultroom.clients.access import visible_clients
from consultroom.clients.models import Client, Participant
from consultroom.clients.search import search_clients, search_participants
from consultroom.i18n import _
from consultroom.web.listing import search_words

# Matches offered at once: enough to recognise the one meant, few enough
# to read; more means typing more.
OFFERED = 10
TEXT = "_text"  # the text field's name: the field's name plus this
# Longer than any name, number or address typed into a field.
MAX_TEXT = 200
UNKNOWN = _("Choose one of the options.")


def label(client):
    """How a client or participant is shown in a field: name, number and
    date of birth tell apart people of the same name."""
    number = f" ({client.client_number})" if client.client_number else ""
    born = f", {client.date_of_birth:%d-%m-%Y}" if client.date_of_birth else ""
    return f"{client.display_name}{number}{born}"


def _by_name(model):
    return (func.lower(model.last_name), func.lower(model.initials), model.id)


def matching(request, text, limit=OFFERED + 1):
    """The visible clients matching ``text``, in name order, at most ``limit``."""
    query = search_clients(request.dbsession, visible_clients(request), text)
    return request.dbsession.scalars(query.order_by(*_by_name(Client)).limit(limit)).all()


def _participants(request):
    return select(Participant).where(Participant.organisation_id == request.organisation.id)


def matching_participants(request, text, limit=OFFERED + 1):
    """The organisation's participants matching ``text``, in name order."""
    query = search_participants(_participants(request), text).order_by(*_by_name(Participant))
    return request.dbsession.scalars(query.limit(limit)).all()


def answer(request, search, object_type):
    """The JSON the combobox reads: the first matches of the ``q`` typed so
    far (by ``search``, one of the two above), recorded in the audit trail
    like a page listing them."""
    text = request.params.get("q", "")[:MAX_TEXT]
    found = search(request, text) if search_words(text) else []
    shown = found[:OFFERED]
    record(
        request,
        f"{object_type}.list",
        object_type,
        ids=[p.id for p in shown],
        searched=True,
        page="picker",
    )
    request.response.cache_control = "no-store"  # personal data: not for caches
    return {
        "matches": [{"id": p.id, "label": label(p)} for p in shown],
        "more": len(found) > OFFERED,
    }


def _as_id(raw):
    raw = raw or ""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


def visible_client(request, raw_id):
    """The visible client with id ``raw_id`` (text from a form or a link), or None."""
    client_id = _as_id(raw_id)
    if client_id is None:
        return None
    return request.dbsession.scalar(visible_clients(request).where(Client.id == client_id))


def _first(formdata, name):
    values = formdata.getlist(name)
    return values[0] if values else None


def _words(text):
    return None if text is None else " ".join(text.replace("\x00", "").split())


class _TypedField(wtforms.Field):
    """What both fields share: the text field beside the ids, and the
    matches to choose from when the text matched several."""

    label_of = staticmethod(label)
    route = ""  # the route of the matches' JSON (set by each field)

    # The problems with a typed text, each field in its own words.
    NONE = SOME = MANY = None

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.text = ""
        self.matches = []

    @property
    def text_name(self):
        return self.name + TEXT

    def _none(self):
        return wtforms.validators.StopValidation(_(self.NONE, mapping={"text": self.text}))

    def _several(self, found):
        """Offer the first of several matches to choose from."""
        self.matches = found[:OFFERED]
        message = self.MANY if len(found) > OFFERED else self.SOME
        n = OFFERED if len(found) > OFFERED else len(found)
        return wtforms.validators.StopValidation(_(message, mapping={"n": n, "text": self.text}))


class ClientField(_TypedField):
    """A client chosen by typing (see the module). ``data`` is the Client or
    None; ``text`` what the text field shows. ``keep`` (set by the view) is
    a client that stays acceptable though no longer visible: the one an
    appointment being edited already has."""

    route = "client_picker"
    NONE = _("No client matches “${text}”. Type part of the name, client number or e-mail address.")
    SOME = _("${n} clients match “${text}”: choose one below.")
    MANY = _(
        "More than ${n} clients match “${text}”: choose one below, or type more of the name,"
        " client number or e-mail address."
    )

    def __init__(self, label=None, validators=None, required=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.required = required  # the message when empty, or None: optional
        self.keep = None
        self.raw_id = None
        if required:
            self.flags.required = True

    def process(self, formdata, data=wtforms.utils.unset_value, extra_filters=None):
        self.process_errors = []
        self.raw_id = self.text = None
        if formdata is None:  # the form shown, not sent: its initial client
            self.data = None if data is wtforms.utils.unset_value else data
            self.text = label(self.data) if self.data is not None else ""
            return
        self.raw_id = _first(formdata, self.name)
        self.text = _words(_first(formdata, self.text_name))
        self.data = None

    def pre_validate(self, form):
        if self.raw_id is not None or self.text is not None:
            self.data = self._resolve(form.request)
            if self.data is not None:
                self.text = label(self.data)
        if self.data is None and self.required:
            raise wtforms.validators.StopValidation(self.required)

    def _resolve(self, request):
        by_id = self._by_id(request)
        if self.text is None:  # a link or a form without the text field
            if self.raw_id and by_id is None:
                raise wtforms.validators.StopValidation(UNKNOWN)
            return by_id
        if not self.text:
            return None
        if by_id is not None and self.text == label(by_id):
            return by_id
        found = matching(request, self.text)
        if by_id is not None and by_id in found:
            return by_id
        if len(found) == 1:
            return found[0]
        raise self._several(found) if found else self._none()

    def _by_id(self, request):
        if self.keep is not None and self.raw_id == str(self.keep.id):
            return self.keep
        return visible_client(request, self.raw_id)

    def _value(self):
        return "" if self.data is None else str(self.data.id)


class ParticipantsField(_TypedField):
    """External participants chosen by typing, any number (see the module).
    ``data`` is the list of Participants (ticked boxes); a typed text adds
    its one match, or offers its several matches as boxes to tick."""

    route = "participant_picker"
    NONE = _("No participant matches “${text}”. Type part of the name or e-mail address.")
    SOME = _("${n} participants match “${text}”: tick the ones meant below.")
    MANY = _(
        "More than ${n} participants match “${text}”: tick the ones meant below, or type"
        " more of the name or e-mail address."
    )

    def process(self, formdata, data=wtforms.utils.unset_value, extra_filters=None):
        self.process_errors = []
        self.raw_ids = None
        self.text = ""
        if formdata is None:
            self.data = [] if data in (wtforms.utils.unset_value, None) else list(data)
            return
        self.raw_ids = formdata.getlist(self.name)
        self.text = _words(_first(formdata, self.text_name)) or ""
        self.data = []

    def pre_validate(self, form):
        if self.raw_ids is None:
            return
        request = form.request
        ids = list(dict.fromkeys(_as_id(raw) for raw in self.raw_ids))
        found = {}
        if ids and None not in ids:
            query = _participants(request).where(Participant.id.in_(ids))
            found = {p.id: p for p in request.dbsession.scalars(query)}
        if len(found) != len(ids):
            raise wtforms.validators.StopValidation(UNKNOWN)
        self.data = [found[i] for i in ids]
        if self.text:
            self._add_typed(request)

    def _add_typed(self, request):
        matches = matching_participants(request, self.text)
        if any(p in self.data for p in matches):
            self.text = ""  # one of them was ticked from the list of several
        elif len(matches) == 1:
            self.data.append(matches[0])
            self.text = ""
        else:
            raise self._several(matches) if matches else self._none()
