"""The providers bundled with the payments plugin, offered through its own
hook (``consultroom_payments_providers``) as a third party's would be."""
