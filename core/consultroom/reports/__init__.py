"""Usage reports: the figures of the last 40 days, computed each night by
the worker (``compute``), read and drawn for the report page and its CSV
export (``figures``, ``graph``, ``views``)."""


def includeme(config):
    config.include(".views")
