"""The organisation admin's pages: payment settings (country, VAT number,
whether rates include VAT, reverse charge), rates (add, change, archive)
and VAT rules (add, change, delete). Every id in an address is checked
against the request's organisation."""

from decimal import Decimal

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import select

from consultroom.audit import record
from consultroom.web import flash
from consultroom.web.errors import not_found
from consultroom.web.forms import Form
from consultroom_payments import accounts, service
from consultroom_payments.forms import (
    KINDS,
    RateForm,
    country_name,
    settings_form,
    vat_rule_form,
)
from consultroom_payments.i18n import _, page
from consultroom_payments.models import Rate, VatRule

MANAGE = "organisation.manage"
TEMPLATES = "consultroom_payments:templates/"


@view_config(
    route_name="payments.settings", renderer=TEMPLATES + "settings.html", permission=MANAGE
)
def settings(request):
    row = service.settings_row(request)
    form = settings_form(request, row, service.rates(request))
    if request.method == "POST":
        if form.validate():
            form.populate_obj(row)
            request.dbsession.add(row)
            record(request, "payments.settings", "organisation", request.organisation.id)
            flash(request, _("The payment settings were saved."))
            return HTTPSeeOther(request.route_path("payments.settings"))
        request.response.status = 400
    return page(request, form=form)


@view_config(route_name="payments.rates", renderer=TEMPLATES + "rates.html", permission=MANAGE)
def rates(request):
    form = RateForm(request)
    if request.method == "POST":
        if form.validate():
            rate = Rate(organisation_id=request.organisation.id, archived=False)
            _fill(rate, form)
            request.dbsession.add(rate)
            request.dbsession.flush()
            record(request, "payments.rate_created", "payments_rate", rate.id)
            flash(request, _("The rate was added."))
            return HTTPSeeOther(request.route_path("payments.rates"))
        request.response.status = 400
    return page(
        request,
        form=form,
        rates=service.rates(request),
        archived=service.rates(request, archived=True),
    )


def _fill(rate, form):
    rate.name = form.name.data.strip()
    rate.amount = Decimal(form.amount.data)
    rate.currency = form.currency.data


@view_config(route_name="payments.rate", renderer=TEMPLATES + "rate.html", permission=MANAGE)
def rate(request):
    found = service.rate_by_id(request, request.matchdict["id"])
    if found is None:
        return not_found(request)
    form = RateForm(request, obj=found)
    if request.method != "POST":
        form.amount.data = str(found.amount)
    elif form.validate():
        _fill(found, form)
        record(request, "payments.rate_changed", "payments_rate", found.id)
        flash(request, _("The rate was saved."))
        return HTTPSeeOther(request.route_path("payments.rates"))
    else:
        request.response.status = 400
    return page(request, form=form, rate=found)


@view_config(route_name="payments.rate_archive", request_method="POST", permission=MANAGE)
def rate_archive(request):
    found = service.rate_by_id(request, request.matchdict["id"])
    if found is None:
        return not_found(request)
    found.archived = request.POST.get("archive") != "0"
    record(request, "payments.rate_archived", "payments_rate", found.id, archived=found.archived)
    flash(
        request,
        _("The rate was archived: it can no longer be chosen.")
        if found.archived
        else _("The rate can be chosen again."),
    )
    return HTTPSeeOther(request.route_path("payments.rates"))


def _rule_or_none(request):
    rule_id = service.whole_id(request.matchdict["id"])
    if rule_id is None:
        return None
    return request.dbsession.scalar(
        select(VatRule).where(
            VatRule.organisation_id == request.organisation.id, VatRule.id == rule_id
        )
    )


def _save_rule(request, form, rule):
    """Store the form in ``rule`` unless another rule has its country and
    kind (then the form gets the error and False)."""
    taken = request.dbsession.scalar(
        select(VatRule.id).where(
            VatRule.organisation_id == request.organisation.id,
            VatRule.country == form.country.data,
            VatRule.kind == form.kind.data,
            VatRule.id != (rule.id or 0),
        )
    )
    if taken is not None:
        form.add_error("kind", _("There is already a rule for these clients: change that one."))
        return False
    rule.country, rule.kind, rule.rate = form.country.data, form.kind.data, Decimal(form.rate.data)
    request.dbsession.add(rule)
    request.dbsession.flush()
    record(request, "payments.vat_rule", "payments_vat_rule", rule.id, rate=str(rule.rate))
    return True


@view_config(route_name="payments.vat", renderer=TEMPLATES + "vat.html", permission=MANAGE)
def vat_rules(request):
    form = vat_rule_form(request)
    if request.method == "POST":
        rule = VatRule(organisation_id=request.organisation.id)
        if form.validate() and _save_rule(request, form, rule):
            flash(request, _("The VAT rule was added."))
            return HTTPSeeOther(request.route_path("payments.vat"))
        request.response.status = 400
    return page(
        request,
        form=form,
        rules=service.vat_rules(request),
        kinds=dict(KINDS),
        country_name=lambda code: country_name(request, code),
    )


@view_config(
    route_name="payments.vat_rule", renderer=TEMPLATES + "vat_rule.html", permission=MANAGE
)
def vat_rule(request):
    rule = _rule_or_none(request)
    if rule is None:
        return not_found(request)
    if request.method == "POST" and request.POST.get("delete") == "1":
        record(request, "payments.vat_rule_deleted", "payments_vat_rule", rule.id)
        request.dbsession.delete(rule)
        flash(request, _("The VAT rule was deleted."))
        return HTTPSeeOther(request.route_path("payments.vat"))
    form = vat_rule_form(request, rule)
    if request.method == "POST":
        if form.validate() and _save_rule(request, form, rule):
            flash(request, _("The VAT rule was saved."))
            return HTTPSeeOther(request.route_path("payments.vat"))
        request.response.status = 400
    return page(request, form=form, rule=rule)


def _provider_form(request, provider, stored):
    form_class = provider.options.form_class(Form)
    form = form_class(request, data=provider.options.values(stored) if stored else None)
    if request.method != "POST":
        for option in provider.options.options:
            if option.secret:
                form[option.key].data = ""  # never shown back
    return form


@view_config(
    route_name="payments.providers", renderer=TEMPLATES + "providers.html", permission=MANAGE
)
def providers(request):
    offered = accounts.providers(request)
    stored = accounts.by_provider(request)
    forms = {
        provider_id: (
            provider,
            _provider_form(request, provider, stored.get(provider_id, (None, False))[0]),
            provider_id in stored,
        )
        for provider_id, provider in sorted(offered.items())
    }
    active = {p for p, (_config, on) in stored.items() if on and p in offered}
    return page(request, provider_forms=forms, active=active)


@view_config(
    route_name="payments.provider",
    request_method="POST",
    renderer=TEMPLATES + "providers.html",
    permission=MANAGE,
)
def provider(request):
    offered = accounts.providers(request)
    chosen = offered.get(request.matchdict["id"])
    if chosen is None:
        return not_found(request)
    stored = accounts.stored_config(request, chosen.id)
    form = chosen.options.form_class(Form)(request)
    if not form.validate():
        request.response.status = 400
        forms = {
            pid: (p, form if pid == chosen.id else _provider_form(request, p, None), False)
            for pid, p in sorted(offered.items())
        }
        return page(request, provider_forms=forms, active=set())
    values = chosen.options.from_form(form, stored)
    on = request.POST.get("active") == "y"
    accounts.save_config(request, chosen.id, values, on)
    record(
        request,
        "payments.provider",
        "organisation",
        request.organisation.id,
        provider=chosen.id,
        active=on,
        changes=chosen.options.changes(chosen.options.values(stored), values),
    )
    flash(request, _("The settings of ${provider} were saved.", mapping={"provider": chosen.label}))
    return HTTPSeeOther(request.route_path("payments.providers"))


def includeme(config):
    config.add_plugin_route("payments.settings", "/payments/settings")
    config.add_plugin_route("payments.rates", "/payments/rates")
    config.add_plugin_route("payments.rate", r"/payments/rates/{id:\d+}")
    config.add_plugin_route("payments.rate_archive", r"/payments/rates/{id:\d+}/archive")
    config.add_plugin_route("payments.vat", "/payments/vat")
    config.add_plugin_route("payments.vat_rule", r"/payments/vat/{id:\d+}")
    config.add_plugin_route("payments.providers", "/payments/providers")
    config.add_plugin_route("payments.provider", r"/payments/providers/{id:[a-z0-9_]{1,50}}")
    config.scan(".admin")
