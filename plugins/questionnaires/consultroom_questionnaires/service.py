"""Questionnaires and responses: who may edit which questionnaire, the
version an edit goes to, attaching a questionnaire to a client, and reading
and writing a response's (encrypted) answers and images."""

import copy
import json

from pyramid.httpexceptions import HTTPNotFound
from sqlalchemy import delete, exists, select
from sqlalchemy.orm import selectinload, undefer

from consultroom.accounts.models import Role
from consultroom.db import utcnow
from consultroom_questionnaires import crypto
from consultroom_questionnaires.i18n import _
from consultroom_questionnaires.models import Image, Questionnaire, Response, Status, Version

STATUS_LABELS = {
    Status.new: _("not started"),
    Status.started: _("started"),
    Status.finished: _("finished"),
}

# ---------------------------------------------------------------- questionnaires


def managed_questionnaires(request):
    """A select of the questionnaires the logged-in administrator keeps:
    every one for an organisation admin, their own department's for a
    department admin."""
    query = select(Questionnaire).where(
        Questionnaire.organisation_id == request.organisation.id,
        Questionnaire.deleted_at.is_(None),
    )
    user = request.identity
    if user.role is not Role.org_admin:
        query = query.where(
            Questionnaire.department_id.is_not(None),
            Questionnaire.department_id == user.department_id,
        )
    return query


def managed_or_404(request, questionnaire_id=None):
    questionnaire_id = questionnaire_id or request.matchdict["id"]
    found = request.dbsession.scalar(
        managed_questionnaires(request).where(Questionnaire.id == int(questionnaire_id))
    )
    if found is None:
        raise HTTPNotFound()
    return found


def usable_questionnaires(request, department_ids):
    """The questionnaires that may be given to a client of these
    departments: the organisation's and those of the departments."""
    query = select(Questionnaire).where(
        Questionnaire.organisation_id == request.organisation.id,
        Questionnaire.deleted_at.is_(None),
    )
    ids = [d for d in department_ids if d is not None]
    query = query.where(
        Questionnaire.department_id.is_(None) | Questionnaire.department_id.in_(ids)
        if ids
        else Questionnaire.department_id.is_(None)
    )
    found = request.dbsession.scalars(
        query.options(selectinload(Questionnaire.versions)).order_by(Questionnaire.id)
    ).all()
    return sorted(found, key=lambda q: q.title.casefold())


def create(request, title, department_id, required, fields=(), is_default=False):
    questionnaire = Questionnaire(
        organisation_id=request.organisation.id,
        department_id=department_id,
        required=required,
        is_default=is_default,
    )
    questionnaire.versions.append(
        Version(organisation_id=request.organisation.id, title=title, fields=list(fields))
    )
    request.dbsession.add(questionnaire)
    request.dbsession.flush()
    return questionnaire


def answered(request, version):
    """Whether any client has started on ``version``."""
    return request.dbsession.scalar(
        select(exists().where(Response.version_id == version.id, Response.status != Status.new))
    )


def editable_version(request, questionnaire):
    """The version an edit changes: the latest, unless clients answered it;
    then a new copy, to which the responses nobody started move."""
    latest = questionnaire.latest
    if not answered(request, latest):
        return latest
    version = Version(
        organisation_id=latest.organisation_id,
        number=latest.number + 1,
        title=latest.title,
        fields=copy.deepcopy(latest.fields),
    )
    questionnaire.versions.append(version)
    request.dbsession.flush()
    for response in request.dbsession.scalars(
        select(Response).where(
            Response.questionnaire_id == questionnaire.id, Response.status == Status.new
        )
    ):
        response.version_id = version.id
    return version


def set_fields(version, fields):
    # A new list: the JSON column notices a replaced value, not an edited one.
    version.fields = [dict(f) for f in fields]


def remove(request, questionnaire):
    """Delete a questionnaire; one that clients answered is only hidden, so
    that their answers still read as they were given."""
    if request.dbsession.scalar(
        select(exists().where(Response.questionnaire_id == questionnaire.id))
    ):
        questionnaire.deleted_at = utcnow()
    else:
        request.dbsession.delete(questionnaire)
    request.dbsession.flush()


def duplicate(request, questionnaire, title):
    return create(
        request,
        title,
        questionnaire.department_id,
        questionnaire.required,
        copy.deepcopy(questionnaire.latest.fields),
    )


# ---------------------------------------------------------------- responses


def attach(request, questionnaire, client_id, appointment_id=None, required=None):
    """A new response of ``client_id`` to ``questionnaire``."""
    response = Response(
        organisation_id=request.organisation.id,
        questionnaire_id=questionnaire.id,
        version_id=questionnaire.latest.id,
        client_id=client_id,
        appointment_id=appointment_id,
        required=questionnaire.required if required is None else required,
    )
    request.dbsession.add(response)
    request.dbsession.flush()
    return response


def responses_of(request, **where):
    query = select(Response).where(Response.organisation_id == request.organisation.id)
    for name, value in where.items():
        query = query.where(getattr(Response, name) == value)
    return request.dbsession.scalars(query.order_by(Response.created_at, Response.id)).all()


def _context(response):
    return f"questionnaires/response/{response.organisation_id}/{response.id}"


def _image_context(image):
    return f"questionnaires/image/{image.organisation_id}/{image.response_id}/{image.field_key}"


def answers_of(request, response):
    """The response's answers ({key: value}); empty when none were given.
    Raises crypto.Undecryptable when its client's key is gone."""
    if response.answers is None:
        return {}
    key = crypto.data_key(request, response.client_id)
    if key is None:
        raise crypto.Undecryptable()
    return json.loads(crypto.unseal(key, response.answers, _context(response)))


def store_answers(request, response, answers, finished):
    key = crypto.data_key(request, response.client_id, create=True)
    plaintext = json.dumps(answers, ensure_ascii=False, sort_keys=True).encode()
    response.answers = crypto.seal(key, plaintext, _context(response))
    response.updated_at = utcnow()
    if finished:
        response.status, response.finished_at = Status.finished, response.updated_at
    elif response.status is Status.new:
        response.status = Status.started


def store_image(request, response, field_key, png):
    """Keep ``png`` as the answer of an image field (replacing an earlier
    one); its id, the value stored in the answers."""
    request.dbsession.execute(
        delete(Image).where(Image.response_id == response.id, Image.field_key == field_key)
    )
    image = Image(
        organisation_id=response.organisation_id, response_id=response.id, field_key=field_key
    )
    key = crypto.data_key(request, response.client_id, create=True)
    image.data = b""
    request.dbsession.add(image)
    request.dbsession.flush()
    image.data = crypto.seal(key, png, _image_context(image))
    return image.id


def image_bytes(request, image):
    key = crypto.data_key(request, request.dbsession.get(Response, image.response_id).client_id)
    if key is None:
        raise crypto.Undecryptable()
    return crypto.unseal(key, image.data, _image_context(image))


def forget_client(request, client_id):
    """Every response and image of the client, and their key."""
    request.dbsession.execute(
        delete(Response).where(
            Response.organisation_id == request.organisation.id, Response.client_id == client_id
        )
    )
    crypto.destroy_key(request, client_id)


def forget_appointments(request, appointment_ids):
    """The responses of these appointments go; what their clients answered
    elsewhere is encrypted again under a fresh key, and the old key goes."""
    responses = request.dbsession.scalars(
        select(Response).where(
            Response.organisation_id == request.organisation.id,
            Response.appointment_id.in_(appointment_ids),
        )
    ).all()
    clients = {r.client_id for r in responses}
    for response in responses:
        request.dbsession.delete(response)
    request.dbsession.flush()
    for client_id in clients:
        _rekey(request, client_id)


def _rekey(request, client_id):
    kept = responses_of(request, client_id=client_id)
    old_answers = {r.id: answers_of(request, r) for r in kept if r.answers is not None}
    images = request.dbsession.scalars(
        select(Image)
        .where(Image.response_id.in_([r.id for r in kept]))
        .options(undefer(Image.data))
    ).all()
    old_images = {i.id: image_bytes(request, i) for i in images}
    _old, new = crypto.replace_key(request, client_id)
    if new is None:
        return
    for response in kept:
        if response.id in old_answers:
            plaintext = json.dumps(old_answers[response.id], ensure_ascii=False, sort_keys=True)
            response.answers = crypto.seal(new, plaintext.encode(), _context(response))
    for image in images:
        image.data = crypto.seal(new, old_images[image.id], _image_context(image))
