"""The usage report's menu entry and the worker's nightly job that
computes its figures."""

from datetime import timedelta

from consultroom.hookspecs import MenuItem, WorkerJob, hookimpl
from consultroom.i18n import _
from consultroom.reports import compute

JOBS = [WorkerJob("usage", timedelta(days=1), compute.job)]


@hookimpl
def consultroom_menu_items(request):
    if not request.has_permission("department.manage"):
        return None
    return [
        MenuItem(
            request.localizer.translate(_("Usage")),
            request.route_path("usage_report"),
            section="organisation",
            order=80,
        )
    ]


@hookimpl
def consultroom_worker_jobs():
    return JOBS
