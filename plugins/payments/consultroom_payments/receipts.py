"""Receipts: a paid payment gets the organisation's next receipt number (no
gaps, one at a time under concurrency), a PDF receipt (the organisation's
details, the payer, the VAT breakdown) kept as issued, and the payer a
confirmation e-mail with it, sent through the outbox after the commit."""

import io
from datetime import UTC
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from zope.sqlalchemy import mark_changed

from consultroom.db import utcnow
from consultroom.i18n import localizer_for
from consultroom.web.pdf_fonts import pdf_font
from consultroom_payments import service
from consultroom_payments.i18n import _
from consultroom_payments.models import Receipt, ReceiptCounter
from consultroom_payments.money import display


def next_number(dbsession, organisation_id):
    """The organisation's next receipt number, taken in this transaction:
    the counter's row stays locked until it ends, so a concurrent payment
    waits and takes the following number, and an undone one gives its
    number back."""
    take = (
        update(ReceiptCounter)
        .where(ReceiptCounter.organisation_id == organisation_id)
        .values(last_number=ReceiptCounter.last_number + 1)
        .returning(ReceiptCounter.last_number)
        .execution_options(synchronize_session=False)
    )
    number = dbsession.execute(take).scalar()
    if number is None:  # the organisation's first receipt
        try:
            with dbsession.begin_nested():
                dbsession.add(ReceiptCounter(organisation_id=organisation_id, last_number=0))
        except IntegrityError:
            pass  # made meanwhile by a concurrent first payment
        number = dbsession.execute(take).scalar()
    mark_changed(dbsession)
    return number


def receipt_of(request, payment):
    return request.dbsession.scalar(
        select(Receipt).where(
            Receipt.organisation_id == request.organisation.id, Receipt.payment_id == payment.id
        )
    )


def issue(request, payment):
    """The receipt of a payment that has just become paid, and its e-mail."""
    receipt = Receipt(
        organisation_id=request.organisation.id,
        payment_id=payment.id,
        number=next_number(request.dbsession, request.organisation.id),
        issued_at=utcnow(),
    )
    receipt.pdf = render_pdf(request, payment, receipt)
    request.dbsession.add(receipt)
    request.dbsession.flush()
    if payment.payer_email:
        _mail(request, payment, receipt)
    return receipt


def _language(request, payment):
    client = payment.appointment.client if payment.appointment else None
    return (client.language if client else None) or request.organisation.language


def _mail(request, payment, receipt):
    language = _language(request, payment)
    organisation = request.organisation
    request.queue_mail(
        payment.payer_email,
        "consultroom_payments:templates/mail/receipt.txt",
        {
            "greeting": _("Hello ${name},", mapping={"name": payment.payer_name}),
            "notice": _(
                "Thank you for your payment of ${amount} to ${organisation}. Your receipt"
                " (number ${number}) is attached.",
                mapping={
                    "amount": display(payment.gross, payment.currency, language),
                    "organisation": organisation.name,
                    "number": receipt.number,
                },
            ),
        },
        subject=_(
            "Your payment to ${organisation}: receipt ${number}",
            mapping={"organisation": organisation.name, "number": receipt.number},
        ),
        language=language,
        attachments=[(f"receipt-{receipt.number}.pdf", "application/pdf", receipt.pdf)],
        ref=f"payments_payment:{payment.id}",
    )


def render_pdf(request, payment, receipt):
    """The receipt as a one-page PDF, in the organisation's language."""
    # Here, not at the top: reportlab's canvas costs every process ~70 ms to import.
    from reportlab.pdfgen.canvas import Canvas

    organisation = request.organisation
    settings = service.settings_row(request)
    language = organisation.language
    t = localizer_for(request.registry, language).translate
    local = receipt.issued_at.replace(tzinfo=UTC).astimezone(ZoneInfo(organisation.timezone))

    def amount(value):
        return display(value, payment.currency, language)

    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=A4, pageCompression=0)
    pdf.setTitle(t(_("Receipt ${number}", mapping={"number": receipt.number})))
    writer = _Lines(pdf, top=A4[1] - 25 * mm)
    writer.line(organisation.name, size=16, bold=True)
    for text in (organisation.contact_address or "").splitlines():
        writer.line(text)
    if organisation.contact_email:
        writer.line(organisation.contact_email)
    if settings.vat_number:
        writer.line(t(_("VAT number: ${number}", mapping={"number": settings.vat_number})))
    writer.gap()
    writer.line(t(_("Receipt ${number}", mapping={"number": receipt.number})), size=14, bold=True)
    writer.line(t(_("Date: ${date}", mapping={"date": format_date(local.date(), locale=language)})))
    writer.gap()
    writer.line(t(_("Paid by: ${name}", mapping={"name": payment.payer_name})))
    writer.line(Locale.parse(language).territories.get(payment.payer_country, ""))
    if payment.payer_vat_number:
        writer.line(t(_("VAT number: ${number}", mapping={"number": payment.payer_vat_number})))
    writer.gap()
    writer.pair(payment.rate_name, amount(payment.net))
    if payment.reverse_charge:
        writer.pair(t(_("VAT: reverse charge")), amount(payment.vat))
        writer.line(t(_("VAT reverse charged: the customer accounts for the VAT.")), size=9)
    else:
        vat_label = _("VAT ${rate}%", mapping={"rate": payment.vat_rate})
        writer.pair(t(vat_label), amount(payment.vat))
    writer.pair(t(_("Total paid")), amount(payment.gross), bold=True)
    writer.gap()
    writer.line(
        t(_("Paid with ${provider}.", mapping={"provider": payment.provider.title()})), size=9
    )
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


class _Lines:
    """Writes lines down a page, left and (for amounts) right aligned."""

    LEFT, RIGHT = 25 * mm, A4[0] - 25 * mm

    def __init__(self, pdf, top):
        self.pdf, self.y = pdf, top

    def _font(self, size, bold):
        self.pdf.setFont(pdf_font(bold), size)

    def line(self, text, size=11, bold=False):
        self._font(size, bold)
        self.pdf.drawString(self.LEFT, self.y, text)
        self.y -= size * 1.5

    def pair(self, label, value, bold=False):
        self._font(11, bold)
        self.pdf.drawString(self.LEFT, self.y, label)
        self.pdf.drawRightString(self.RIGHT, self.y, value)
        self.y -= 16

    def gap(self):
        self.y -= 10
