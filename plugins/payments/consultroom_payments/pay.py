"""The client's payment step: the "pay" admission step's page (who pays:
name, e-mail, country, business with VAT number), the price it comes to,
one button per provider, the return from the provider and its webhook.

The price is computed on the server from the appointment's rate and the
payer's details, every time: the amount shown is posted back only to be
compared, and a changed one is refused.
"""

import secrets

import wtforms
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.response import Response
from pyramid.view import view_config

from consultroom.appointments.admission import step_appointment, waiting_room_url
from consultroom.web.errors import not_found
from consultroom.web.forms import EmailAddress, Form, options
from consultroom_payments import accounts, checkout, service, vat
from consultroom_payments.forms import countries
from consultroom_payments.i18n import _, page
from consultroom_payments.models import SETTLED, Payment, Status
from consultroom_payments.provider import PENDING, ProviderError, WebhookRefused

TEMPLATE = "consultroom_payments:templates/pay.html"
ATTEMPT_BYTES = 24


class PayerForm(Form):
    name = wtforms.StringField(
        _("Name on the receipt"),
        validators=[
            wtforms.validators.InputRequired(_("Enter the name for the receipt.")),
            wtforms.validators.Length(max=200),
        ],
    )
    email = wtforms.StringField(
        _("E-mail address for the receipt"),
        validators=[
            wtforms.validators.InputRequired(_("Enter the e-mail address for the receipt.")),
            wtforms.validators.Length(max=254),
            EmailAddress(message=_("Enter a valid e-mail address.")),
        ],
    )
    country = wtforms.SelectField(
        _("Country"),
        choices=[],
        validators=[wtforms.validators.InputRequired(_("Choose your country."))],
    )
    business = wtforms.BooleanField(_("I pay as a business"))
    vat_number = wtforms.StringField(
        _("VAT number (businesses)"), validators=[wtforms.validators.Length(max=20)]
    )

    def validate_vat_number(self, field):
        field.data = vat.normalised_vat_number(field.data)
        if not field.data:
            return
        if not self.business.data:
            raise wtforms.validators.ValidationError(
                _('A VAT number is for businesses: tick "I pay as a business" or leave it empty.')
            )
        if self.country.data in vat.EU and not vat.vat_number_valid(field.data, self.country.data):
            raise wtforms.validators.ValidationError(
                _("This is not a VAT number of your country (for example DE123456789).")
            )

    @property
    def buyer(self):
        return vat.Buyer(self.country.data, bool(self.business.data), self.vat_number.data or "")


def payer_form(request, appointment):
    client = appointment.client
    form = PayerForm(
        request,
        name=client.display_name if client else "",
        email=client.email if client else "",
        country=service.settings_row(request).country,
    )
    form.country.choices = options([("", ""), *countries(request)])
    return form


def _appointment_and_rate(request):
    """(appointment, rate) of the step's token, or None (a 404)."""
    appointment = step_appointment(request, request.matchdict["token"])
    if appointment is None:
        return None
    charge = checkout.charge_of(request, appointment)
    return None if charge is None else (appointment, charge.rate)


def _paid(request, appointment):
    return appointment.id in checkout.settled(request, [appointment.id])


def _show(request, appointment, rate, form, price=None, problem=None, status=200):
    request.response.status = status
    return page(
        request,
        appointment=appointment,
        rate=rate,
        form=form,
        price=price,
        problem=problem,
        providers=accounts.active(request),
        attempt=secrets.token_urlsafe(ATTEMPT_BYTES),
        cancelled=request.GET.get("cancelled") == "1",
    )


@view_config(route_name="payments.pay", renderer=TEMPLATE)
def pay(request):
    found = _appointment_and_rate(request)
    if found is None:
        return not_found(request)
    appointment, rate = found
    if _paid(request, appointment):
        return HTTPSeeOther(waiting_room_url(request, appointment))
    form = payer_form(request, appointment)
    if request.method != "POST":
        return _show(request, appointment, rate, form)
    if not form.validate():
        return _show(request, appointment, rate, form, status=400)
    price = service.price_for(request, rate, form.buyer)
    if price is None:
        problem = _("Paying from this country is not possible yet: please contact us.")
        return _show(request, appointment, rate, form, problem=problem, status=400)
    return _show(request, appointment, rate, form, price=price)


@view_config(route_name="payments.start", request_method="POST", renderer=TEMPLATE)
def start(request):
    """The "pay with ..." button: checks the amount against the server's,
    stores the payment (once per attempt) and sends the client to the
    provider."""
    found = _appointment_and_rate(request)
    if found is None:
        return not_found(request)
    appointment, rate = found
    if _paid(request, appointment):
        return HTTPSeeOther(waiting_room_url(request, appointment))
    form = payer_form(request, appointment)
    if not form.validate():
        return _show(request, appointment, rate, form, status=400)
    price = service.price_for(request, rate, form.buyer)
    chosen = accounts.active_one(request, request.POST.get("provider", ""))
    attempt = request.POST.get("attempt", "")
    if price is None or chosen is None or not 20 <= len(attempt) <= 64:
        return _show(request, appointment, rate, form, price=price, status=400)
    if (request.POST.get("amount"), request.POST.get("currency")) != (
        str(price.gross),
        price.currency,
    ):
        problem = _("The amount to pay is not what was posted: check it and pay again.")
        return _show(request, appointment, rate, form, price=price, problem=problem, status=400)
    provider, config = chosen
    payment = checkout.create(
        request, _new_payment(request, appointment, rate, form, price, provider, attempt)
    )
    if payment.appointment_id != appointment.id:
        return not_found(request)
    if payment.status is Status.failed:
        problem = _("This payment did not go through: please try again.")
        return _show(request, appointment, rate, form, price=price, problem=problem, status=409)
    if not payment.checkout_url:
        try:
            started = provider.start(
                request,
                config,
                payment,
                return_url=request.route_url(
                    "payments.return", token=appointment.token, _query={"attempt": payment.attempt}
                ),
                cancel_url=request.route_url(
                    "payments.pay", token=appointment.token, _query={"cancelled": "1"}
                ),
            )
        except ProviderError as exc:
            payment.status = Status.failed  # kept: the attempt is used up
            return _show(
                request, appointment, rate, form, price=price, problem=str(exc), status=502
            )
        payment.provider_ref, payment.checkout_url = started.ref, started.url
    return HTTPSeeOther(
        request.route_path("payments.go", token=appointment.token, _query={"attempt": attempt})
    )


@view_config(route_name="payments.go", renderer="consultroom_payments:templates/go.html")
def go(request):
    """On to the provider's page. A page of its own, not a redirect from
    the form: the site's CSP (form-action 'self') forbids a form post to
    end at another site, a link (followed by the page's script) may."""
    found = _appointment_and_rate(request)
    if found is None:
        return not_found(request)
    appointment, _rate = found
    payment = checkout.by_attempt(request, request.GET.get("attempt", ""))
    if payment is None or payment.appointment_id != appointment.id or not payment.checkout_url:
        return not_found(request)
    if payment.status is not Status.pending:
        return HTTPSeeOther(request.route_path("payments.pay", token=appointment.token))
    chosen = accounts.providers(request).get(payment.provider)
    label = chosen.label if chosen is not None else payment.provider
    return page(request, appointment=appointment, payment=payment, provider_label=label)


def _new_payment(request, appointment, rate, form, price, provider, attempt):
    return Payment(
        organisation_id=request.organisation.id,
        appointment_id=appointment.id,
        attempt=attempt,
        provider=provider.id,
        checkout_url="",
        rate_name=rate.name,
        currency=price.currency,
        net=price.net,
        vat=price.vat,
        gross=price.gross,
        vat_rate=price.rate,
        reverse_charge=price.reverse_charge,
        payer_name=form.name.data.strip(),
        payer_email=form.email.data.strip(),
        payer_country=form.country.data,
        payer_business=bool(form.business.data),
        payer_vat_number=form.vat_number.data or "",
    )


@view_config(route_name="payments.return", renderer="consultroom_payments:templates/pending.html")
def returned(request):
    """The client back from the provider: ask it how the payment stands
    (its webhook may have told us already), then on to the waiting room."""
    found = _appointment_and_rate(request)
    if found is None:
        return not_found(request)
    appointment, _rate = found
    payment = checkout.by_attempt(request, request.GET.get("attempt", ""))
    if payment is None or payment.appointment_id != appointment.id:
        return not_found(request)
    if payment.status not in SETTLED:
        chosen = accounts.active_one(request, payment.provider)
        if chosen is not None and payment.provider_ref:
            provider, config = chosen
            try:
                outcome = provider.check(request, config, payment)
            except ProviderError:
                outcome = None
            if outcome is not None and outcome.ref == payment.provider_ref:
                checkout.apply(request, payment, outcome)
    if payment.status in SETTLED:
        return HTTPSeeOther(waiting_room_url(request, appointment))
    if payment.status.value == PENDING:
        request.response.headers["Refresh"] = "3"
        return page(request, appointment=appointment, failed=False)
    return page(request, appointment=appointment, failed=True)


@view_config(route_name="payments.webhook", request_method="POST", require_csrf=False)
def webhook(request):
    """A provider's call about this organisation's payments: verified by
    the provider, then each outcome applied once (a replay changes
    nothing)."""
    chosen = accounts.active_one(request, request.matchdict["provider"])
    if chosen is None:
        return not_found(request)
    provider, config = chosen
    try:
        outcomes = provider.webhook(request, config)
    except WebhookRefused:
        return Response("refused", status=400, content_type="text/plain")
    for outcome in outcomes:
        payment = checkout.by_ref(request, provider.id, outcome.ref)
        if payment is not None:
            checkout.apply(request, payment, outcome)
    return Response("ok", content_type="text/plain")


def includeme(config):
    link = "{token:[A-Za-z0-9_-]{20,64}}"  # the appointment's token
    config.add_plugin_route("payments.pay", f"/pay/{link}")
    config.add_plugin_route("payments.start", f"/pay/{link}/start")
    config.add_plugin_route("payments.go", f"/pay/{link}/go")
    config.add_plugin_route("payments.return", f"/pay/{link}/return")
    config.add_plugin_route("payments.webhook", r"/payments/webhook/{provider:[a-z0-9_]{1,50}}")
    config.add_plugin_static_view("payments-static", "consultroom_payments:static")
    config.scan(".pay")
