"""The e-mails clients receive: template sets, placeholders and iCalendar."""


def includeme(config):
    pass
