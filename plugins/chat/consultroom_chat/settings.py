"""Chat's settings per organisation (the hosting provider's console), and
reading them for a request."""

from consultroom.tenancy.options import BoolOption, IntOption, OptionSet
from consultroom_chat.i18n import _

PLUGIN_ID = "chat"


def _keep_or_delete(values):
    if values.get("keep_open_after") and values.get("delete_after_consultation"):
        return {
            "delete_after_consultation": _(
                "Messages cannot both stay open and be deleted after the consultation: choose one."
            )
        }
    return {}


OPTIONS = OptionSet(
    (
        BoolOption(
            "in_waiting_room",
            _("Show messages in the waiting room"),
            help=_("The practitioner and a waiting client can write before the call-in."),
        ),
        BoolOption(
            "keep_open_after",
            _("Messages stay open after the consultation"),
            help=_("What was written goes on in the client's Messages with the department."),
        ),
        BoolOption(
            "delete_after_consultation",
            _("Delete messages after the consultation"),
            help=_("What was written in the waiting room and the room goes when it ends."),
        ),
        IntOption(
            "delete_after_days",
            _("Delete messages after this many days"),
            help=_("Every message older than this goes, in channels too; 0 keeps them."),
            default=0,
            maximum=3650,
        ),
        BoolOption(
            "public_widget",
            _("Public chat widget"),
            help=_(
                "Visitors of the organisation's web site write from the chat widget"
                " (/chat/widget, embeddable on the sites listed under Widgets);"
                " the staff on duty answer them under Messages."
            ),
        ),
    ),
    rules=(_keep_or_delete,),
)


def settings_of(request):
    return request.plugin_settings(PLUGIN_ID)
