"""The appointment form's "Payment" field: free, or paid at one of the
organisation's rates (which then makes paying an admission step)."""

from markupsafe import Markup

from consultroom.appointments.fields import FieldInvalid
from consultroom_payments import checkout, service
from consultroom_payments.i18n import _, translator
from consultroom_payments.models import Charge

FREE = ""


class ChargeField:
    """``rates``: the organisation's rates on offer, as the hook found them."""

    name = "payments_rate"

    def __init__(self, rates):
        self.rates = rates
        self._charges = {}

    def _charge_of(self, request, appointment):
        """The appointment's charge (None: free, or a new appointment), read
        once for the form's validation and its showing again with an error."""
        if appointment is None:
            return None
        if appointment.id not in self._charges:
            self._charges[appointment.id] = checkout.charge_of(request, appointment)
        return self._charges[appointment.id]

    def render(self, request, appointment, posted, error):
        t = translator(request)
        charge = self._charge_of(request, appointment)
        if posted is not None:
            chosen = posted.get(self.name, FREE)
        else:
            chosen = str(charge.rate_id) if charge else FREE
        choices = [(FREE, t("Free"))] + [
            (str(rate.id), f"{rate.name} ({service.money_label(request, rate)})")
            for rate in self.rates
        ]
        if charge and charge.rate.archived:  # keep an archived rate that was chosen
            choices.append((str(charge.rate_id), charge.rate.name))
        options = Markup("").join(
            Markup('<option value="{}"{}>{}</option>').format(
                value, Markup(" selected") if value == chosen else "", label
            )
            for value, label in choices
        )
        described = Markup(' aria-describedby="payments_rate-error" aria-invalid="true"')
        return Markup(
            '<label for="payments_rate">{}</label>'
            '<select id="payments_rate" name="payments_rate"{}>{}</select>'
        ).format(t("Payment"), described if error else "", options)

    def validate(self, request, appointment, posted):
        value = posted.get(self.name, FREE)
        if value == FREE:
            return None
        rate = service.rate_by_id(request, value)
        charge = self._charge_of(request, appointment)
        if rate is None or (rate.archived and not (charge and charge.rate_id == rate.id)):
            raise FieldInvalid(_("Choose one of the rates, or free."))
        return rate

    def save(self, request, appointment, value):
        charge = checkout.charge_of(request, appointment)
        if value is None:
            if charge is not None:
                request.dbsession.delete(charge)
            return
        if charge is None:
            charge = Charge(organisation_id=request.organisation.id, appointment_id=appointment.id)
            request.dbsession.add(charge)
        charge.rate_id = value.id
        request.dbsession.flush()
