"""The payments plugin's own hook: where payment providers come from.

A provider is a plugin of its own (its entry point in
``consultroom.plugins``, enabled per organisation beside payments) that
implements this hook; the Stripe and PayPal providers bundled here use it
too (``consultroom_payments.providers``). See docs/plugins.md, "Payment
providers".
"""

from consultroom.hookspecs import hookspec


@hookspec
def consultroom_payments_providers(request):
    """Return the payment providers you offer (objects with the
    ``consultroom_payments.provider.PaymentProvider`` attributes and methods).

    Called whenever the payments plugin needs its providers for the
    organisation of ``request``: the providers page of an organisation
    admin (each provider's settings form), the client's payment page (one
    button per provider the organisation set up), the return from a
    provider, its webhook and a refund. Only the plugins the organisation
    enabled answer. Return a list (each provider's ``id`` unique among
    all), or ``None``.
    """
