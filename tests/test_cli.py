"""The ``consultroom`` command, run through ``main(argv)`` against its own
ini file and database (a SQLite file unless a test passes another)."""

import io
import re
import sys
from email import message_from_bytes, policy

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from consultroom.accounts.models import Role, User
from consultroom.cli import main
from consultroom.mail.models import OutboxMessage
from consultroom.plugins.models import PluginEnablement
from consultroom.secretbox import box_from_settings
from consultroom.tenancy.models import Department, Organisation
from consultroom.tenancy.options import SEALED, unseal
from consultroom.testing import password_matches

# Each test has a SQLite database of its own.
pytestmark = pytest.mark.sqlite_only

INI_SECRET = "cli-test-secret-0123456789-0123456789-0123456789"
INI = """\
[app:main]
use = egg:consultroom
consultroom.base_domain = consultroom.test
consultroom.public_url = http://consultroom.test:6543
sqlalchemy.url = {url}
session.secret = {secret}
session.secure = false
mail.transport = folder
mail.folder = {mail}
mail.sender = Consultroom <noreply@consultroom.test>
{extra}
"""


class CLI:
    def __init__(self, tmp_path, capsys, extra="", url=None):
        url = url or f"sqlite:///{tmp_path / 'cli.sqlite'}"
        self.mail = tmp_path / "mail"
        self.ini = tmp_path / "cli.ini"
        self.ini.write_text(INI.format(url=url, mail=self.mail, extra=extra, secret=INI_SECRET))
        self.capsys = capsys
        self.engine = create_engine(url)

    def __call__(self, *argv, stdin=None, code=0):
        """Run the command; return its standard output (and check its exit code)."""
        self.capsys.readouterr()
        old_stdin = sys.stdin
        if stdin is not None:
            sys.stdin = io.StringIO(stdin)
        try:
            result = main(["-c", str(self.ini), *argv])
        finally:
            sys.stdin = old_stdin
        out, err = self.capsys.readouterr()
        assert result == code, (out, err)
        self.err = err
        return out

    def session(self):
        return Session(self.engine)

    def mails(self):
        return sorted(self.mail.glob("*.eml")) if self.mail.exists() else []

    def close(self):
        self.engine.dispose()


@pytest.fixture
def cli(tmp_path, capsys, fresh_sqlite):
    """The command line on a migrated database of the test's own."""
    cli = CLI(tmp_path, capsys, url=fresh_sqlite(tmp_path / "cli.sqlite"))
    yield cli
    cli.close()


def create_staff(cli, email, name, *options, stdin="a long enough password\n", code=0):
    """``consultroom users create`` in acme, the password on standard input."""
    return cli(
        "users",
        "create",
        "--org",
        "acme",
        "--email",
        email,
        "--name",
        name,
        *options,
        "--password-stdin",
        stdin=stdin,
        code=code,
    )


def read_mail(path):
    return message_from_bytes(path.read_bytes(), policy=policy.default)


def test_db_upgrade_creates_the_tables_and_can_run_again(tmp_path, capsys):
    cli = CLI(tmp_path, capsys)
    out = cli("db", "upgrade")
    assert out.startswith("database is up to date:")
    with cli.session() as db:
        assert db.scalars(select(Organisation)).all() == []
        assert db.scalars(select(PluginEnablement)).all() == []
    assert cli("db", "upgrade") == out
    cli.close()


def test_orgs_create_and_list(cli):
    out = cli("orgs", "create", "--subdomain", "acme", "--name", "Acme Care", "--max-users", "7")
    assert out == "created acme: http://acme.consultroom.test:6543/\n"
    cli("orgs", "create", "--subdomain", "beta", "--name", "Beta Practice")
    lines = cli("orgs", "list").splitlines()
    assert len(lines) == 2
    assert lines[0].split() == ["acme", "Acme", "Care", "max", "users", "7"]
    assert lines[1].split() == ["beta", "Beta", "Practice", "max", "users", "10"]
    with cli.session() as db:
        org = db.scalar(select(Organisation).where(Organisation.subdomain == "acme"))
        assert (org.name, org.max_users) == ("Acme Care", 7)


def test_orgs_create_lowercases_the_subdomain(cli):
    cli("orgs", "create", "--subdomain", "Acme", "--name", "Acme Care")
    assert cli("orgs", "list").split()[0] == "acme"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--subdomain", "bad_sub"], "lowercase letters, digits and hyphens"),
        (["--subdomain", "www"], "This subdomain is reserved."),
        (["--subdomain", "taken"], "This subdomain is already taken."),
        (["--subdomain", "fine", "--max-users", "0"], "at least 1"),
    ],
)
def test_orgs_create_refuses_bad_input(cli, argv, message):
    cli("orgs", "create", "--subdomain", "taken", "--name", "Taken")
    argv = ["orgs", "create", "--name", "New", *argv]
    if "--max-users" in argv:
        with pytest.raises(SystemExit) as exc:
            cli(*argv)
        assert exc.value.code == 2
        assert message in cli.capsys.readouterr().err
    else:
        cli(*argv, code=1)
        assert cli.err.startswith("consultroom: error: ") and message in cli.err
    assert cli("orgs", "list").split()[0::6] == ["taken"]


def test_orgs_list_when_empty(cli):
    assert cli("orgs", "list") == ""


# -- users -----------------------------------------------------------------


def test_db_upgrade_encrypts_secret_settings_stored_before_secrets_were(cli):
    with cli.session() as db:
        db.add(Organisation(subdomain="old", name="Old", settings={"turn_secret": "plain-s3cret"}))
        db.add(Organisation(subdomain="new", name="New", settings={"turn_urls": "turn:t.example"}))
        db.commit()
    assert "secret settings encrypted: old\n" in cli("db", "upgrade")
    box = box_from_settings({"session.secret": INI_SECRET})
    with cli.session() as db:
        old = db.scalar(select(Organisation).where(Organisation.subdomain == "old"))
        assert old.settings["turn_secret"].startswith(SEALED)
        assert old.options_with_secrets(box)["turn_secret"] == "plain-s3cret"
        sealed = old.settings
    # Once is enough: the next upgrade leaves the sealed secret as it is.
    assert "encrypted" not in cli("db", "upgrade")
    with cli.session() as db:
        assert (
            db.scalar(select(Organisation.settings).where(Organisation.subdomain == "old"))
            == sealed
        )


@pytest.fixture
def acme(cli):
    cli("orgs", "create", "--subdomain", "acme", "--name", "Acme Care", "--max-users", "3")
    with cli.session() as db:
        org = db.scalar(select(Organisation).where(Organisation.subdomain == "acme"))
        db.add(Department(organisation_id=org.id, name="Physiotherapy"))
        db.commit()
    return "acme"


def get_user(cli, email):
    with cli.session() as db:
        return db.scalar(select(User).where(User.email == email))


def test_users_create_with_a_password_from_stdin(cli, acme):
    out = create_staff(
        cli,
        "Anna@Acme.example",
        "Anna Admin",
        "--role",
        "org_admin",
        "--department",
        "Physiotherapy",
    )
    assert out == "Anna@Acme.example created in acme\n"
    user = get_user(cli, "anna@acme.example")
    assert (user.name, user.role) == ("Anna Admin", Role.org_admin)
    assert user.department_id is not None
    assert password_matches(user, "a long enough password")
    assert cli.mails() == []


def test_users_create_without_a_password_sends_an_invitation(cli, acme):
    out = cli("users", "create", "--org", "acme", "--email", "piet@acme.example", "--name", "Piet")
    assert out == "piet@acme.example created in acme; invitation queued\n"
    user = get_user(cli, "piet@acme.example")
    assert user.role is Role.practitioner and user.password_hash is None
    [path] = cli.mails()
    msg = read_mail(path)
    assert msg["To"] == "piet@acme.example" and "Acme Care" in msg["Subject"]
    body = msg.get_body(("plain",)).get_content()
    assert re.search(r"http://acme\.consultroom\.test:6543/set-password/[\w-]+", body)
    with cli.session() as db:
        assert db.scalar(select(OutboxMessage.status)) == "sent"


@pytest.mark.parametrize("stdin", ["short\n", "\n", ""])
def test_users_create_refuses_a_short_password(cli, acme, stdin):
    create_staff(cli, "piet@acme.example", "Piet", stdin=stdin, code=1)
    assert "at least 10 characters" in cli.err
    assert get_user(cli, "piet@acme.example") is None and cli.mails() == []


def test_users_create_superuser(cli):
    out = cli(
        "users",
        "create",
        "--superuser",
        "--email",
        "Root@Provider.example",
        "--name",
        "Provider",
        "--password-stdin",
        stdin="provider password 1\n",
    )
    assert out == "superuser root@provider.example created\n"
    user = get_user(cli, "root@provider.example")
    assert user.role is Role.superuser and user.organisation_id is None
    assert password_matches(user, "provider password 1")

    cli(
        "users",
        "create",
        "--superuser",
        "--email",
        "root@provider.example",
        "--name",
        "Again",
        "--password-stdin",
        stdin="provider password 2\n",
        code=1,
    )
    assert "already" in cli.err
    with cli.session() as db:
        assert len(db.scalars(select(User).where(User.role == Role.superuser)).all()) == 1


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--org", "nope"], "no organisation with subdomain 'nope'"),
        (["--org", "acme", "--department", "Nope"], "no department 'Nope' in acme"),
    ],
)
def test_users_create_errors(cli, acme, argv, message):
    cli("users", "create", "--email", "x@acme.example", "--name", "X", *argv, code=1)
    assert cli.err == f"consultroom: error: {message}\n"
    assert get_user(cli, "x@acme.example") is None


def test_users_create_needs_an_org_or_superuser(cli):
    cli("users", "create", "--email", "x@acme.example", "--name", "X", code=2)
    assert "--org is required" in cli.err


def test_users_create_respects_the_package_limit(cli, acme):
    for n in range(3):
        create_staff(cli, f"u{n}@acme.example", f"U{n}")
    create_staff(cli, "u3@acme.example", "U3", code=1)
    assert "package allows 3 active staff members" in cli.err
    assert get_user(cli, "u3@acme.example") is None


def test_users_create_refuses_a_duplicate_email(cli, acme):
    create_staff(cli, "u@acme.example", "U")
    create_staff(cli, "U@acme.example", "Again", code=1)
    assert "already a staff member with this e-mail address" in cli.err


# -- plugins ---------------------------------------------------------------


def test_plugins_list(cli):
    out = cli("plugins", "list")
    line = next(line for line in out.splitlines() if line.startswith("hello "))
    assert line.split()[:3] == ["hello", "1.2.0", "Hello"] and line.split()[-1] == "ok"
    assert "Greets the staff of organisations that enable it." in out


def enablement(cli):
    with cli.session() as db:
        row = db.scalar(select(PluginEnablement))
        return row and row.enabled


def test_plugins_enable_and_disable(cli, acme):
    assert cli("plugins", "enable", "--org", "acme", "hello") == "hello enabled for acme\n"
    assert enablement(cli) is True
    with cli.session() as db:
        from consultroom_hello import Visit

        assert [v.note for v in db.scalars(select(Visit))] == ["enabled"]
    assert cli("plugins", "disable", "--org", "acme", "hello") == "hello disabled for acme\n"
    assert enablement(cli) is False


def stored_settings(cli):
    with cli.session() as db:
        return db.scalar(select(PluginEnablement.settings))


def test_plugins_enable_fills_in_the_defaults_and_takes_settings(cli, acme):
    cli("plugins", "enable", "--org", "acme", "hello")
    assert stored_settings(cli) == {"greeting": "Hello", "signing_key": ""}
    cli("plugins", "disable", "--org", "acme", "hello")
    out = cli("plugins", "enable", "--org", "acme", "hello", "--set", "greeting= Good day ")
    assert out == "hello enabled for acme\n"
    assert stored_settings(cli) == {"greeting": "Good day", "signing_key": ""}


def test_plugins_enable_seals_a_secret_setting_and_db_upgrade_one_stored_before(cli, acme):
    key = "sk-live-0123456789wxyz"
    cli("plugins", "enable", "--org", "acme", "hello", "--set", f"signing_key={key}")
    box = box_from_settings({"session.secret": INI_SECRET})
    stored = stored_settings(cli)
    assert stored["signing_key"].startswith(SEALED) and key not in str(stored)
    assert unseal(stored["signing_key"], box) == key
    with cli.session() as db:
        db.scalar(select(PluginEnablement)).settings = {"greeting": "Hi", "signing_key": key}
        db.commit()
    assert "secret settings encrypted: acme/hello\n" in cli("db", "upgrade")
    assert unseal(stored_settings(cli)["signing_key"], box) == key
    assert "encrypted" not in cli("db", "upgrade")


@pytest.mark.parametrize(
    "argument, message",
    [
        (
            "colour=red",
            "plugin 'hello': there is no setting colour (the settings are: greeting, signing_key)",
        ),
        ("greeting=" + "x" * 101, "plugin 'hello': greeting is at most 100 characters long"),
        ("greeting", "--set takes key=value, not 'greeting'"),
    ],
)
def test_plugins_enable_refuses_a_bad_setting_in_one_line(cli, acme, argument, message):
    cli("plugins", "enable", "--org", "acme", "hello", "--set", argument, code=1)
    assert cli.err == f"consultroom: error: {message}\n"
    assert enablement(cli) is None


def test_plugins_enable_errors(cli, acme):
    cli("plugins", "enable", "--org", "nope", "hello", code=1)
    assert cli.err == "consultroom: error: no organisation with subdomain 'nope'\n"
    cli("plugins", "enable", "--org", "acme", "nosuch", code=1)
    assert cli.err == "consultroom: error: no plugin 'nosuch' is installed\n"
    cli("plugins", "disable", "--org", "acme", "nosuch", code=1)
    assert enablement(cli) is None


@pytest.fixture
def typo_installed(monkeypatch):
    """Besides the installed plugins, one with a misspelled hook."""
    from importlib.metadata import EntryPoint, entry_points

    from consultroom.plugins import registry

    typo = EntryPoint(name="typo", value="fake_plugins.typo", group=registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [*entry_points(group=group), typo])


def test_plugins_list_names_a_broken_plugin_s_fault(cli, typo_installed):
    out = cli("plugins", "list")
    line = next(line for line in out.splitlines() if line.startswith("typo "))
    assert line.split()[:3] == ["typo", "unknown", "Typo"]
    assert line.endswith(
        "BROKEN: implements unknown hook 'consultroom_menu_itmes'"
        " (did you mean 'consultroom_menu_items'?)"
    )
    assert "The web application does not start while a broken plugin is installed" in out
    assert next(line for line in out.splitlines() if line.startswith("hello ")).endswith(" ok")


def test_a_broken_plugin_can_be_disabled_not_enabled(cli, acme, typo_installed):
    with cli.session() as db:
        org_id = db.scalar(select(Organisation.id).where(Organisation.subdomain == "acme"))
        # Enabled while it worked; its upgrade brought the misspelling.
        db.add(PluginEnablement(organisation_id=org_id, plugin="typo", enabled=True))
        db.commit()
    assert cli("plugins", "disable", "--org", "acme", "typo") == "typo disabled for acme\n"
    assert enablement(cli) is False
    cli("plugins", "enable", "--org", "acme", "typo", code=1)
    assert cli.err == (
        "consultroom: error: plugin 'typo' implements unknown hook 'consultroom_menu_itmes'"
        " (did you mean 'consultroom_menu_items'?)\n"
    )
    assert enablement(cli) is False


# -- demo and worker -------------------------------------------------------


def test_demo_is_idempotent(cli):
    first = cli("demo")
    assert "Organisation: http://demo.consultroom.test:6543/" in first
    assert "Web pages:    http://demo-pages.consultroom.test:6543/" in first
    assert "Console:      http://consultroom.test:6543/" in first
    assert "Password for every demo login: consultroom-demo" in first
    for email in ("admin@demo.example", "deptadmin@demo.example", "doctor@demo.example"):
        assert f"{email}   (http://demo.consultroom.test:6543/login)" in first
    assert "provider@localhost   (http://consultroom.test:6543/login)" in first

    def snapshot():
        with cli.session() as db:
            return (
                sorted(
                    (u.email, u.role.value, u.organisation_id) for u in db.scalars(select(User))
                ),
                sorted(d.name for d in db.scalars(select(Department))),
                db.scalars(select(Organisation.subdomain)).all(),
            )

    before = snapshot()
    assert len(before[0]) == 4 and before[1] == ["General practice", "Physiotherapy"]
    assert before[2] == ["demo"]
    assert cli("demo") == first
    assert snapshot() == before
    with cli.session() as db:
        doctor = db.scalar(select(User).where(User.email == "doctor@demo.example"))
        assert doctor.department.name == "General practice"
        assert password_matches(doctor, "consultroom-demo")
    assert cli.mails() == []


def test_worker_once_delivers_pending_mail(tmp_path, capsys):
    cli = CLI(tmp_path, capsys, extra="mail.deliver_after_commit = off")
    cli("db", "upgrade")
    cli("orgs", "create", "--subdomain", "acme", "--name", "Acme Care")
    cli("users", "create", "--org", "acme", "--email", "piet@acme.example", "--name", "Piet")
    with cli.session() as db:
        assert db.scalar(select(OutboxMessage.status)) == "pending"
    assert cli.mails() == []
    assert cli("worker", "--once") == "sent 1 message(s)\n"
    [path] = cli.mails()
    assert read_mail(path)["To"] == "piet@acme.example"
    with cli.session() as db:
        assert db.scalar(select(OutboxMessage.status)) == "sent"
    assert cli("worker", "--once") == ""  # nothing left to send
    assert len(cli.mails()) == 1
    cli.close()


def test_the_cli_leaves_no_pyramid_state_behind(cli):
    from pyramid.threadlocal import manager

    depth = len(manager.stack)
    cli("orgs", "list")
    cli("plugins", "enable", "--org", "nope", "hello", code=1)
    assert len(manager.stack) == depth
