"""The organisation's payment providers: which the enabled plugins offer
(``consultroom_payments_providers``), and the organisation's account
settings of each, stored as JSON encrypted with the core's secret box."""

import json

from sqlalchemy import select

from consultroom.secretbox import secret_box
from consultroom_payments.models import ProviderAccount


def providers(request):
    """{id: provider} of every provider the organisation's plugins offer."""
    found = {}
    for result in request.hooks.consultroom_payments_providers(request=request):
        for provider in result or ():
            found.setdefault(provider.id, provider)
    return found


def _row(request, provider_id):
    return request.dbsession.scalar(
        select(ProviderAccount).where(
            ProviderAccount.organisation_id == request.organisation.id,
            ProviderAccount.provider == provider_id,
        )
    )


def stored_config(request, provider_id):
    """The stored settings of the organisation's account with
    ``provider_id`` (decrypted), or None."""
    row = _row(request, provider_id)
    if row is None:
        return None
    return json.loads(secret_box(request.registry).decrypt(row.config))


def save_config(request, provider_id, values, active):
    row = _row(request, provider_id)
    if row is None:
        row = ProviderAccount(organisation_id=request.organisation.id, provider=provider_id)
        request.dbsession.add(row)
    row.config = secret_box(request.registry).encrypt(json.dumps(values).encode())
    row.active = active


def by_provider(request):
    """{provider id: (stored settings, switched on)} of every account the
    organisation has stored, decrypted."""
    box = secret_box(request.registry)
    rows = request.dbsession.scalars(
        select(ProviderAccount).where(ProviderAccount.organisation_id == request.organisation.id)
    )
    return {row.provider: (json.loads(box.decrypt(row.config)), row.active) for row in rows}


def active(request):
    """[(provider, config)] of the providers the organisation switched on
    (and whose plugin it still has), in the order of their ids."""
    offered = providers(request)
    rows = request.dbsession.scalars(
        select(ProviderAccount)
        .where(
            ProviderAccount.organisation_id == request.organisation.id,
            ProviderAccount.active.is_(True),
        )
        .order_by(ProviderAccount.provider)
    ).all()
    box = secret_box(request.registry)
    return [
        (offered[row.provider], json.loads(box.decrypt(row.config)))
        for row in rows
        if row.provider in offered
    ]


def active_one(request, provider_id):
    """(provider, config) of one switched-on provider, or None."""
    return next(((p, c) for p, c in active(request) if p.id == provider_id), None)
