"""The organisation's payments for bookkeeping: a list with filters
(state, provider, dates, payer), its CSV export, and the receipts as
issued. Kept readable after the organisation switches the plugin off (its
routes are the plugin's archive: ``add_plugin_route(..., archive=True)``)."""

from datetime import date, datetime, time, timedelta

from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import select

from consultroom.audit import record
from consultroom.web.errors import not_found
from consultroom.web.forms import FIRST_YEAR, LAST_YEAR
from consultroom.web.listing import csv_bytes, page_number, paginate, search
from consultroom_payments.i18n import _, page
from consultroom_payments.models import Payment, Receipt, Status
from consultroom_payments.service import whole_id

MANAGE = "organisation.manage"
STATE_LABELS = {
    Status.pending.value: _("Pending"),
    Status.paid.value: _("Paid"),
    Status.failed.value: _("Failed"),
    Status.refunded.value: _("Refunded"),
    Status.partly_refunded.value: _("Partly refunded"),
}
EXPORT_HEADER = (
    _("Date"),
    _("Receipt"),
    _("Payer"),
    _("Country"),
    _("VAT number"),
    _("Rate"),
    _("Currency"),
    _("Net"),
    _("VAT rate (%)"),
    _("VAT"),
    _("Total"),
    _("Refunded"),
    _("State"),
    _("Provider"),
    _("Provider's reference"),
)


def _day(text):
    """A date from the query string: None when empty, False when it is no
    date of a plausible year."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return False
    return day if FIRST_YEAR <= day.year <= LAST_YEAR else False


class Filters:
    """The list's filters from the query string; ``problems`` names those
    that made no sense (they are left out, with a message)."""

    def __init__(self, request):
        params = request.GET
        self.state = params.get("state", "") if params.get("state") in STATE_LABELS else ""
        self.provider = params.get("provider", "")[:50]
        self.payer = params.get("payer", "")[:200]
        self.since, self.until = _day(params.get("from", "")), _day(params.get("to", ""))
        self.problems = []
        if self.since is False or self.until is False:
            self.problems.append(
                _(
                    "Enter dates as YYYY-MM-DD, from ${first} to ${last}.",
                    mapping={"first": FIRST_YEAR, "last": LAST_YEAR},
                )
            )
            self.since = self.until = None

    def query(self, request):
        query = select(Payment).where(Payment.organisation_id == request.organisation.id)
        if self.state:
            query = query.where(Payment.status == Status(self.state))
        if self.provider:
            query = query.where(Payment.provider == self.provider)
        if self.since:
            query = query.where(Payment.created_at >= datetime.combine(self.since, time()))
        if self.until:
            query = query.where(
                Payment.created_at < datetime.combine(self.until, time()) + timedelta(days=1)
            )
        query = search(query, [Payment.payer_name, Payment.payer_email], self.payer)
        return query.order_by(Payment.created_at.desc(), Payment.id.desc())

    def pairs(self):
        values = {
            "state": self.state,
            "provider": self.provider,
            "payer": self.payer,
            "from": self.since.isoformat() if self.since else "",
            "to": self.until.isoformat() if self.until else "",
        }
        return [(k, v) for k, v in values.items() if v]


def receipt_numbers(request, payment_ids):
    if not payment_ids:
        return {}
    return dict(
        request.dbsession.execute(
            select(Receipt.payment_id, Receipt.number).where(
                Receipt.organisation_id == request.organisation.id,
                Receipt.payment_id.in_(payment_ids),
            )
        ).all()
    )


def _providers(request):
    return request.dbsession.scalars(
        select(Payment.provider)
        .where(Payment.organisation_id == request.organisation.id)
        .distinct()
        .order_by(Payment.provider)
    ).all()


@view_config(
    route_name="payments.list",
    renderer="consultroom_payments:templates/payments.html",
    permission=MANAGE,
)
def payments(request):
    filters = Filters(request)
    listed = paginate(request.dbsession, filters.query(request), page_number(request))
    return page(
        request,
        filters=filters,
        listed=listed,
        receipts=receipt_numbers(request, [p.id for p in listed.items]),
        states=STATE_LABELS,
        providers=_providers(request),
        archived="payments" not in request.enabled_plugin_ids,
    )


@view_config(route_name="payments.export", permission=MANAGE)
def export(request):
    filters = Filters(request)
    rows = request.dbsession.scalars(filters.query(request)).all()
    receipts = receipt_numbers(request, [p.id for p in rows])
    t = request.localizer.translate
    record(request, "payments.export", "organisation", request.organisation.id, rows=len(rows))
    body = csv_bytes(
        [t(h) for h in EXPORT_HEADER],
        (
            (
                p.created_at.date().isoformat(),
                receipts.get(p.id, ""),
                p.payer_name,
                p.payer_country,
                p.payer_vat_number,
                p.rate_name,
                p.currency,
                p.net,
                p.vat_rate,
                p.vat,
                p.gross,
                p.refunded,
                t(STATE_LABELS[p.status.value]),
                p.provider,
                p.provider_ref or "",
            )
            for p in rows
        ),
    )
    response = Response(body=body, content_type="text/csv", charset="utf-8")
    response.content_disposition = 'attachment; filename="payments.csv"'
    return response


@view_config(route_name="payments.receipt", permission="staff")
def receipt(request):
    """A receipt's PDF as it was issued, for the organisation's staff."""
    number = whole_id(request.matchdict["number"])
    found = (
        None
        if number is None
        else request.dbsession.scalar(
            select(Receipt).where(
                Receipt.organisation_id == request.organisation.id, Receipt.number == number
            )
        )
    )
    if found is None:
        return not_found(request)
    record(request, "payments.receipt", "payments_receipt", found.id)
    response = Response(body=found.pdf, content_type="application/pdf")
    response.content_disposition = f'inline; filename="receipt-{found.number}.pdf"'
    return response


def includeme(config):
    # The archive: readable after the organisation switches payments off.
    config.add_plugin_route("payments.list", "/payments", archive=True)
    config.add_plugin_route("payments.export", "/payments/export.csv", archive=True)
    config.add_plugin_route(
        "payments.receipt", r"/payments/receipts/{number:\d{1,9}}.pdf", archive=True
    )
    config.scan(".listing")
