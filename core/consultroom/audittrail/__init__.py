"""The organisation admin's pages of the audit trail (the list with its
filters, and the CSV export) and their menu entry. The trail itself, and
``record``, are infrastructure in ``consultroom.audit``."""


def includeme(config):
    config.include(".views")
