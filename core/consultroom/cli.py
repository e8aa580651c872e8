"""The ``consultroom`` command: database, organisations, users, plugins, the
demo data, the background worker and the media server.

Every command reads the application's ini file (``-c``, default
``$CONSULTROOM_CONFIG`` or ``development.ini``) and runs inside one
transaction, through the same services as the web pages.
"""

import argparse
import getpass
import os
import sys
import time

import plaster
import plaster_pastedeploy
from pyramid.scripting import prepare
from sqlalchemy import select

from consultroom import plugins as plugin_service
from consultroom.accounts import service as accounts
from consultroom.accounts.models import Role, User
from consultroom.accounts.passwords import MIN_LENGTH
from consultroom.app import make_config
from consultroom.audit import record
from consultroom.mail import mail_outbox
from consultroom.realtime.bus import IMessageBus
from consultroom.secretbox import secret_box
from consultroom.tenancy import service as tenancy
from consultroom.tenancy.models import Department, Organisation
from consultroom.tenancy.options import SettingsError
from consultroom.web.sites import public_base, site_request


class CommandError(Exception):
    pass


def _command_settings(settings):
    """``settings`` for a command: mail is delivered and audit entries are
    linked while committing, not in a daemon thread, which dies with the
    command, maybe before its work is done."""
    settings = {**settings, "audit.link_in_background": "false"}
    if settings.get("mail.deliver_after_commit", "thread") == "thread":
        settings["mail.deliver_after_commit"] = "sync"
    return settings


def _ini_file(config_uri):
    """The ini file's loader, with its logging set up: PasteDeploy's, as
    ``pserve`` and gunicorn use, made directly. Looked up by name (pyramid's
    ``get_appsettings`` and ``setup_logging``), plaster reads every installed
    distribution's metadata: 40 to 70 ms each time, twice in every command."""
    loader = plaster_pastedeploy.Loader(plaster.parse_uri(config_uri))
    loader.setup_logging()
    return loader


class Environment:
    """The application, and a request for the console or one organisation."""

    def __init__(self, config_uri):
        self.config_uri = config_uri
        self.settings = _ini_file(config_uri).get_wsgi_app_settings()
        # Not through the ini file's application factory, which is for
        # servers: commands also run inside other programs (the tests). A
        # broken plugin does not stop a command: ``plugins list`` names its
        # fault and ``plugins disable`` switches it off.
        self.registry = make_config(
            _command_settings(self.settings), allow_broken_plugins=True
        ).registry
        self._env = prepare(registry=self.registry)

    def close(self):
        """Pop prepare's thread-local request and registry; the message bus
        sends what the command published (a worker job's socket messages)
        before it stops."""
        self._env["closer"]()
        bus = self.registry.queryUtility(IMessageBus)
        if bus is not None:
            bus.close()

    def run(self, action, subdomain=None):
        """Call ``action(request)`` in one transaction, for the console or
        the organisation at ``subdomain``."""
        request = site_request(self.registry, subdomain)
        with request.tm:
            if subdomain and request.organisation is None:
                raise CommandError(f"no organisation with subdomain {subdomain!r}")
            return action(request)


def cmd_db_upgrade(env, args):
    from consultroom.db import migrate

    engine = env.registry["dbmaker"].kw["bind"]
    migrate.upgrade(engine, env.registry.plugins)
    print(
        "database is up to date:",
        ", ".join(sorted(migrate.current_heads(engine, env.registry.plugins))),
    )
    # A migration has no key: the secrets stored before they were encrypted
    # are encrypted here, where the settings give one.
    sealed = env.run(_seal_stored_secrets)
    if sealed:
        print("secret settings encrypted:", ", ".join(sealed))


def _seal_stored_secrets(request):
    """The organisations' and plugins' secret settings stored before they
    were encrypted, encrypted: "<subdomain>" and "<subdomain>/<plugin>"."""
    box = secret_box(request.registry)
    sealed = tenancy.seal_stored_secrets(request.dbsession, box)
    pairs = plugin_service.seal_stored_secrets(request.registry.plugins, request.dbsession, box)
    for organisation_id, plugin_id in pairs:
        sealed.append(
            f"{request.dbsession.get(Organisation, organisation_id).subdomain}/{plugin_id}"
        )
    return sealed


def cmd_orgs_create(env, args):
    def action(request):
        try:
            org = tenancy.create_organisation(
                request.dbsession,
                name=args.name,
                subdomain=args.subdomain,
                max_users=args.max_users,
            )
        except tenancy.OrganisationError as exc:
            raise CommandError(request.localizer.translate(exc.args[0])) from None
        return org.subdomain

    sub = env.run(action)
    print(f"created {sub}: {public_base(env.settings, sub)}/")


def cmd_orgs_list(env, args):
    def action(request):
        return [
            (o.subdomain, o.name, o.max_users)
            for o in request.dbsession.scalars(
                select(Organisation).order_by(Organisation.subdomain)
            )
        ]

    for sub, name, limit in env.run(action):
        print(f"{sub:20} {name:40} max users {limit}")


def _password(args):
    if not args.password_stdin:
        return None
    password = sys.stdin.readline().rstrip("\n")
    # The same rule as the set-password form: an empty password would leave
    # an account that can neither log in nor has been invited.
    if len(password) < MIN_LENGTH:
        raise CommandError(f"the password must have at least {MIN_LENGTH} characters")
    return password


def cmd_users_create(env, args):
    password = _password(args)
    if args.superuser:
        email = args.email.lower()

        def action(request):
            # The unique constraint does not cover superusers: their organisation is NULL.
            if request.dbsession.scalar(
                select(User.id).where(User.organisation_id.is_(None), User.email == email)
            ):
                raise CommandError(f"a superuser {email} already exists")
            request.dbsession.add(
                User(
                    email=email,
                    name=args.name,
                    role=Role.superuser,
                    password_hash=request.passwords.hash(password or getpass.getpass()),
                )
            )

        env.run(action)
        print(f"superuser {email} created")
        return

    def action(request):
        org = request.organisation
        dept_id = None
        if args.department:
            dept_id = request.dbsession.scalar(
                select(Department.id).where(
                    Department.organisation_id == org.id, Department.name == args.department
                )
            )
            if dept_id is None:
                raise CommandError(f"no department {args.department!r} in {org.subdomain}")
        try:
            accounts.create_staff(
                request,
                org,
                name=args.name,
                email=args.email.lower(),
                role=Role(args.role),
                department_id=dept_id,
                password=password,
            )
        except accounts.AccountError as exc:
            raise CommandError(request.localizer.translate(exc.args[0])) from None

    env.run(action, args.org)
    print(f"{args.email} created in {args.org}" + ("" if password else "; invitation queued"))


def _plugin_status(plugin):
    if plugin.usable:
        return "ok"
    return f"{'BROKEN' if plugin.broken else 'UNUSABLE'}: {plugin.problem}"


def cmd_plugins_list(env, args):
    installed = env.registry.plugins.plugins.values()
    for plugin in installed:
        info = plugin.info
        print(f"{plugin.id:16} {plugin.version:10} {plugin.name:30} {_plugin_status(plugin)}")
        if info and info.description:
            print(f"{'':16} {info.description}")
    if not installed:
        print("no plugins installed")
    if any(plugin.broken for plugin in installed):
        print(
            "The web application does not start while a broken plugin is installed:"
            " fix or uninstall it, or leave it out of the consultroom.plugins setting."
        )


def _given_settings(pairs):
    """``--set key=value`` arguments as {key: value}."""
    given = {}
    for pair in pairs or ():
        key, equals, value = pair.partition("=")
        if not equals or not key.strip():
            raise CommandError(f"--set takes key=value, not {pair!r}")
        given[key.strip()] = value
    return given


def _switch(env, args, enabled):
    given = _given_settings(getattr(args, "set", None))

    def action(request):
        try:
            plugin_service.set_enabled(
                request.registry.plugins,
                request.dbsession,
                request.organisation,
                args.plugin,
                enabled,
                settings=given,
                box=secret_box(request.registry),
            )
        except plugin_service.PluginUnavailable as exc:
            raise CommandError(str(exc)) from None
        except SettingsError as exc:
            message = request.localizer.translate(exc.message)
            raise CommandError(f"plugin {args.plugin!r}: {message}") from None
        # The names only: a plugin's settings may hold its own secrets.
        detail = {"settings": sorted(given)} if given else {}
        record(
            request,
            "plugin.enable" if enabled else "plugin.disable",
            "plugin",
            args.plugin,
            via="command line",
            **detail,
        )

    env.run(action, args.org)
    print(f"{args.plugin} {'enabled' if enabled else 'disabled'} for {args.org}")


def cmd_demo(env, args):
    from consultroom.demo import create_demo

    create_demo(env)


def _anchor_marks(anchor):
    """The anchor's marks and number of checkpoints; none without an anchor."""
    from consultroom.audit.anchor import AnchorError

    if anchor is None:
        return {}, 0
    try:
        return anchor.read()
    except AnchorError as exc:
        raise CommandError(f"audit anchor broken: {exc}") from None


def cmd_audit_verify(env, args):
    from consultroom.audit.chain import verify

    anchor = env.registry["audit_anchor"]
    marks, checkpoints = _anchor_marks(anchor)
    result = env.run(lambda request: verify(request.dbsession, marks))
    if result.problem:
        raise CommandError(f"audit trail broken: {result.problem}")
    print(f"OK: {result.entries} audit entries in {result.chains} chain(s) verified")
    if result.pending:
        print(f"{result.pending} audit entries recorded, not yet linked (the worker links them)")
    if anchor is None:
        print(
            "No anchor checked: without audit.anchor_key and audit.anchor_file, a chain"
            " recomputed by someone with access to the database passes"
        )
    else:
        print(f"OK: {checkpoints} signed checkpoint(s) in {anchor.path} match the chains")


def cmd_audit_checkpoint(env, args):
    anchor = env.registry["audit_anchor"]
    if anchor is None:
        raise CommandError("set audit.anchor_key and audit.anchor_file to write checkpoints")
    try:
        checkpoint = env.run(lambda request: anchor.checkpoint(request.dbsession))
    except OSError as exc:
        raise CommandError(f"cannot append to {anchor.path}: {exc.strerror}") from None
    print(f"checkpoint of {len(checkpoint['chains'])} chain(s) appended to {anchor.path}")


def cmd_worker(env, args):
    from consultroom import jobs
    from consultroom.audit.chain import link_all
    from consultroom.ratelimit import prune as prune_failures
    from consultroom.room.files import sweep as sweep_room_files
    from consultroom.sessions import prune as prune_sessions

    outbox = mail_outbox(env.registry)
    anchor = env.registry["audit_anchor"]
    while True:
        sent = outbox.deliver_due()
        env.run(lambda request: prune_failures(request.dbsession))
        env.run(lambda request: prune_sessions(request.dbsession))
        if sent:
            print(f"sent {sent} message(s)", flush=True)
        done = jobs.run_due(env.registry)
        done["room files removed"] = sweep_room_files(env.registry)
        # Left over only when linking right after their commit failed (so
        # named only then); before the checkpoint, which then covers them.
        if linked := link_all(env.registry["dbmaker"]):
            done["audit entries linked"] = linked
        if anchor is not None:
            done["audit checkpoints"] = anchor.checkpoint_if_due(env.registry["dbmaker"])
        if any(done.values()):
            print(", ".join(f"{name}: {n}" for name, n in done.items()), flush=True)
        if args.once:
            return
        time.sleep(args.interval)


def cmd_media(config_uri):
    """The media server: an asyncio process that needs the settings, not the
    application."""
    from consultroom.media.config import media_settings
    from consultroom.media.server import run

    media = media_settings(_ini_file(config_uri).get_wsgi_app_settings())
    if not media.enabled:
        raise CommandError("set media.url (e.g. http://127.0.0.1:8765) to run the media server")
    try:
        host, port = media.bind
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    run(media, host, port)


def _subdomain(value):
    return value.strip().lower()  # as the console's form does


def _max_users(value):
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def build_parser():
    parser = argparse.ArgumentParser(prog="consultroom", description=__doc__.split("\n")[0])
    parser.add_argument(
        "-c",
        "--config",
        default=os.environ.get("CONSULTROOM_CONFIG", "development.ini"),
        help="the application's ini file",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="database migrations").add_subparsers(dest="sub", required=True)
    db.add_parser("upgrade", help="run every migration branch to its head").set_defaults(
        func=cmd_db_upgrade
    )

    orgs = sub.add_parser("orgs", help="organisations").add_subparsers(dest="sub", required=True)
    create = orgs.add_parser("create", help="create an organisation")
    create.add_argument("--subdomain", required=True, type=_subdomain)
    create.add_argument("--name", required=True)
    create.add_argument("--max-users", type=_max_users, default=10)
    create.set_defaults(func=cmd_orgs_create)
    orgs.add_parser("list", help="list organisations").set_defaults(func=cmd_orgs_list)

    users = sub.add_parser("users", help="staff accounts").add_subparsers(dest="sub", required=True)
    ucreate = users.add_parser(
        "create",
        help="create a staff member (invited by e-mail unless --password-stdin) or a superuser",
    )
    ucreate.add_argument("--org", help="the organisation's subdomain")
    ucreate.add_argument("--email", required=True)
    ucreate.add_argument("--name", required=True)
    ucreate.add_argument(
        "--role", choices=[r.value for r in Role if r is not Role.superuser], default="practitioner"
    )
    ucreate.add_argument("--department")
    ucreate.add_argument("--superuser", action="store_true", help="a hosting-provider account")
    ucreate.add_argument("--password-stdin", action="store_true")
    ucreate.set_defaults(func=cmd_users_create)

    plugins = sub.add_parser("plugins", help="plugins").add_subparsers(dest="sub", required=True)
    plugins.add_parser("list", help="installed plugins and their state").set_defaults(
        func=cmd_plugins_list
    )
    for name, enabled in (("enable", True), ("disable", False)):
        p = plugins.add_parser(name, help=f"{name} a plugin for one organisation")
        p.add_argument("--org", required=True, help="the organisation's subdomain")
        p.add_argument("plugin")
        if enabled:
            p.add_argument(
                "--set",
                action="append",
                metavar="KEY=VALUE",
                help="a setting of the plugin (repeat for more); the others keep"
                " their stored value or default",
            )
        p.set_defaults(func=lambda env, args, enabled=enabled: _switch(env, args, enabled))

    audit = sub.add_parser("audit", help="the audit trail").add_subparsers(
        dest="sub", required=True
    )
    audit.add_parser(
        "verify",
        help="check every hash chain, and against the signed"
        " checkpoints in audit.anchor_file; fail naming the first bad entry",
    ).set_defaults(func=cmd_audit_verify)
    audit.add_parser(
        "checkpoint",
        help="append a signed checkpoint of every chain head to"
        " audit.anchor_file (the worker writes one every audit.anchor_minutes)",
    ).set_defaults(func=cmd_audit_checkpoint)

    sub.add_parser("demo", help="create the demo organisation and users").set_defaults(
        func=cmd_demo
    )
    worker = sub.add_parser("worker", help="deliver queued e-mail and run scheduled jobs")
    worker.add_argument("--once", action="store_true", help="one round, then exit")
    worker.add_argument("--interval", type=float, default=5.0)
    worker.set_defaults(func=cmd_worker)
    sub.add_parser(
        "media", help="the echo peer of the network test (an asyncio process) on media.url"
    )
    _add_plugin_commands(sub)
    return parser


def _add_plugin_commands(sub):
    """The installed plugins' subcommands (``consultroom_commands``); one
    named like an existing command is left out with a warning."""
    from consultroom.plugins.registry import PluginRegistry

    taken = set(sub.choices)
    for declared in PluginRegistry.discover().pm.hook.consultroom_commands():
        for command in declared or ():
            if command.name in taken:
                print(f"consultroom: a plugin's command {command.name!r} is taken", file=sys.stderr)
                continue
            taken.add(command.name)
            sub.add_parser(command.name, help=command.help).set_defaults(
                func=lambda env, _args, run=command.run: run(env.registry)
            )


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.command == "users" and not args.superuser and not args.org:
        print("consultroom: error: --org is required (or --superuser)", file=sys.stderr)
        return 2
    try:
        if args.command == "media":
            cmd_media(args.config)
        else:
            _with_environment(args)
    except CommandError as exc:
        print(f"consultroom: error: {exc}", file=sys.stderr)
        return 1
    return 0


def _with_environment(args):
    env = Environment(args.config)
    try:
        args.func(env, args)
    finally:
        env.close()
