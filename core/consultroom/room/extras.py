"""The room's extras that an organisation's advanced settings switch on
(issue 19), as the core's own hook implementations:

- background effects (``background_effects``): a "Background" tab in the
  room's side panel (off, blur, the admin's images: room.backgrounds) and
  its toolbar button, driven by static/js/effects.js, which runs the
  segmentation model the installation serves itself (``/segmentation/``,
  fetched by scripts/fetch-segmentation); its page may compile WebAssembly
  (``'wasm-unsafe-eval'``) and nothing more. Not offered when the model was
  not fetched. ``background_warning`` adds the notice the others read while
  someone's background is replaced (the ``background`` socket message,
  room.effects);
- in the client's waiting room (the ``waiting_room`` slot): the explainer
  video, the organisation's page behind "More information", the evaluation
  form after the consultation, and "stop if the webcam fails"
  (static/js/extras-waiting.js); an extra participant's waiting page (the
  ``participant_waiting_room`` slot) gets the explainer and the page only.
  The page's ``frame-src`` lists exactly the origins of the addresses set,
  and only this page gets them.
"""

from pathlib import Path
from urllib.parse import urlsplit

from pyramid.renderers import render

from consultroom.hookspecs import (
    MenuItem,
    RoomButton,
    RoomOverlay,
    RoomScript,
    RoomTab,
    fills_slots,
    hookimpl,
)
from consultroom.i18n import _
from consultroom.room.backgrounds import backgrounds_of
from consultroom.web import headers

MODEL = Path(__file__).with_name("segmentation")
# The frames of each waiting page: the evaluation is the client's to fill
# in, not an extra participant's.
WAITING_SLOTS = {
    "waiting_room": ("explainer_url", "info_frame_url", "evaluation_url"),
    "participant_waiting_room": ("explainer_url", "info_frame_url"),
}


def model_present():
    return (MODEL / "selfie_segmentation.js").is_file()


def origin(url):
    """``https://host[:port]`` of an address the settings accepted."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@hookimpl
def consultroom_room_regions(request, role, room):
    org = request.organisation
    if org is None or not org.options["background_effects"] or not model_present():
        return None
    headers.allow(request, "script-src", "'wasm-unsafe-eval'")
    t = request.localizer.translate
    values = {
        "images": backgrounds_of(request.dbsession, org),
        "warn": org.options["background_warning"],
    }
    regions = [
        RoomButton("effects", t(_("Background")), order=0),
        # Its tab after the plugins' tabs: it is opened by its button, rarely.
        RoomTab(
            "effects", t(_("Background")), render("room/_effects.html", values, request), order=900
        ),
        RoomScript("/static/js/effects.js"),
    ]
    if values["warn"]:
        notice = render("room/_background_notice.html", {}, request)
        regions.append(RoomOverlay("background-notice", t(_("Background notice")), notice))
    return regions


@hookimpl
@fills_slots("waiting_room", "participant_waiting_room")
def consultroom_template_slot(request, slot, context):
    if slot not in WAITING_SLOTS or request.organisation is None:
        return None
    options = request.organisation.options
    frames = {key: options[key] for key in WAITING_SLOTS[slot] if options[key]}
    # The check page is the client's, on their token: an extra participant
    # must not learn it.
    check_url = (
        request.route_path(
            "client_network_test", token=context["appointment"].token, _query={"camera": "failed"}
        )
        if slot == "waiting_room" and options["stop_if_webcam_fails"]
        else ""
    )
    if not frames and not check_url:
        return None
    headers.only(request, "frame-src", [origin(url) for url in frames.values()])
    return render("waitingroom/_extras.html", {"frames": frames, "check_url": check_url}, request)


@hookimpl
def consultroom_menu_items(request):
    if not request.has_permission("organisation.manage"):
        return None
    return [
        MenuItem(
            request.localizer.translate(_("Background images")),
            request.route_path("backgrounds"),
            section="organisation",
            order=17,
        )
    ]
