"""The client's portal: their appointments and what plugins offer them
(questionnaires, chat), behind a PIN e-mailed to them (``pins``, ``views``);
the portal's link on the client page for staff (``staff``, ``letter``,
``hooks``); and the portal as an installable web app (``pwa``).

Plugins add pages under ``/portal/<token>/`` and protect them with
``consultroom.portal.access.unlocked_client``."""


def includeme(config):
    # The worker's and the offline page's addresses before /portal/{token}.
    config.include(".pwa")
    config.include(".views")
    config.include(".staff")
