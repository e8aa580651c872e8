"""The payments plugin's hook implementations: its menu entry for
organisation admins; the appointment form's "Payment" field and the
widgets' rates; the rate and amount as mail placeholders; "pay" as an
admission step of a paid appointment; "paid" on the waiting list and the
appointments list; the appointment page's payment and refund; the bundled
providers (Stripe, PayPal)."""

from functools import cache

from pyramid.renderers import render

from consultroom.appointments.models import Origin
from consultroom.clients.contact import language_of
from consultroom.hookspecs import (
    AdmissionStep,
    ListBadge,
    MailPlaceholder,
    MenuItem,
    WaitingAnnotation,
    fills_slots,
    hookimpl,
)
from consultroom_payments import checkout, refunds, report, service
from consultroom_payments.fields import ChargeField
from consultroom_payments.i18n import _, page
from consultroom_payments.listing import STATE_LABELS, receipt_numbers
from consultroom_payments.models import Charge
from consultroom_payments.money import display

STEP = "payments.pay"
# The rate (a column of the Payment settings) of the appointments a widget's
# visitor makes.
WIDGET_RATES = {Origin.booking: "booking_rate_id", Origin.walk_in: "walk_in_rate_id"}


@hookimpl
def consultroom_menu_items(request):
    if not request.has_permission("organisation.manage"):
        return None
    label = request.localizer.translate(_("Payments"))
    return [MenuItem(label, request.route_path("payments.list"), section="organisation", order=60)]


@hookimpl
def consultroom_appointment_form_fields(request, appointment):
    """Offered where the organisation has rates, or the appointment one."""
    rates = service.rates(request)
    if rates or (appointment is not None and checkout.charge_of(request, appointment) is not None):
        return [ChargeField(rates)]
    return None


@hookimpl
def consultroom_appointment_created(request, appointment, origin):
    """The booking widget's and walk-in widget's rate (Payment settings)
    for an appointment their visitor made: staff choose on the form, and an
    API client chooses none (free unless staff set one)."""
    if origin not in WIDGET_RATES or checkout.charge_of(request, appointment) is not None:
        return
    rate_id = getattr(service.settings_row(request), WIDGET_RATES[origin])
    rate = service.rate_by_id(request, rate_id, active_only=True) if rate_id else None
    if rate is not None:
        request.dbsession.add(
            Charge(
                organisation_id=request.organisation.id,
                appointment_id=appointment.id,
                rate_id=rate.id,
            )
        )


@hookimpl
def consultroom_mail_placeholders(request):
    t = request.localizer.translate
    return [
        MailPlaceholder("payments_rate", t(_("The appointment's rate")), sample="Consultation"),
        MailPlaceholder(
            "payments_amount", t(_("The rate's amount (as set under Rates)")), sample="€50.00"
        ),
    ]


@hookimpl
def consultroom_mail_placeholder_values(request, appointment, kind):
    charge = checkout.charge_of(request, appointment)
    if charge is None or kind == "cancellation":
        return None
    language = language_of(appointment.client, request.organisation)
    return {
        "payments_rate": charge.rate.name,
        "payments_amount": display(charge.rate.amount, charge.rate.currency, language),
    }


@hookimpl
def consultroom_admission_steps(request, appointment):
    if checkout.charge_of(request, appointment) is None:
        return None
    return [
        AdmissionStep(
            id=STEP,
            label=request.localizer.translate(_("Payment")),
            url=request.route_path("payments.pay", token=appointment.token),
            done=bool(checkout.settled(request, [appointment.id])),
            order=50,
        )
    ]


@hookimpl
def consultroom_waiting_list_annotations(request, appointments):
    paid = checkout.settled(request, [a.id for a in appointments])
    label = request.localizer.translate(_("paid"))
    return [WaitingAnnotation(appointment_id, label, "ok") for appointment_id in sorted(paid)]


@hookimpl
def consultroom_list_badges(request, list_name, rows):
    if list_name != "appointments":
        return None
    paid = checkout.settled(request, [row.id for row in rows])
    label = request.localizer.translate(_("paid"))
    return [ListBadge(row_id, label, "ok") for row_id in sorted(paid)]


@hookimpl
@fills_slots("usage_report", "appointment")
def consultroom_template_slot(request, slot, context):
    """The appointment page's payment (rate, state, receipt, refund), and
    the payments' figures in the usage report."""
    if slot == "usage_report":
        return report.usage_slot(request, context)
    if slot != "appointment" or not request.has_permission("staff"):
        return None
    appointment = context["appointment"]
    charge = checkout.charge_of(request, appointment)
    paid = refunds.of_appointment(request, appointment)
    if charge is None and not paid:
        return None
    values = page(
        request,
        appointment=appointment,
        charge=charge,
        paid=paid,
        receipts=receipt_numbers(request, [p.id for p in paid]),
        states=STATE_LABELS,
        may_refund=request.has_permission(refunds.MANAGE),
    )
    return render("consultroom_payments:templates/appointment_slot.html", values, request)


@cache
def bundled():
    """The bundled providers, made when a process first asks for the
    organisation's providers (a payment's pages, their settings, a webhook),
    not when the plugin loads: their SDKs (stripe with aiohttp, PayPal's)
    cost every process ~250 ms to import, the web app's and each command's.
    A payment asks before it writes, so the import never holds a lock."""
    from consultroom_payments.providers.paypal_orders import PayPalProvider
    from consultroom_payments.providers.stripe_checkout import StripeProvider

    return [PayPalProvider(), StripeProvider()]


@hookimpl
def consultroom_payments_providers(request):
    return bundled()
