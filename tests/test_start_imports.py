"""What a process of Consultroom imports when it starts: the web application
(loaded as pserve and gunicorn load it) and the ``consultroom`` program's
command line with every installed plugin. The SDKs and libraries that only
a payment, a receipt, a login through a provider, the caption worker, a PDF,
a push message, an invitation's calendar file or a QR code need are imported
by the code that does that, not at start: every process (the tests' servers
and commands too) would pay for them."""

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.sqlite_only

# Each imported at start would cost a process 20 ms or (much) more.
HEAVY = (
    "stripe",  # payments: a checkout, a webhook, a refund
    "paypalserversdk",
    "aiohttp",  # stripe's and pywebpush's HTTP client
    "requests",  # PayPal, OpenID Connect, SAML metadata, the translators
    "reportlab.pdfgen.canvas",  # receipts, the portal letter, questionnaire exports
    "reportlab.platypus",
    "authlib.integrations.requests_client",  # an OpenID Connect login
    "authlib.oauth1",
    "joserfc.jwt",
    "onelogin.saml2.auth",  # a SAML login
    "lxml.etree",
    "aiortc",  # the caption worker
    "av",
    "numpy",
    "faster_whisper",
    "pywebpush",  # a push message to staff
    "icalendar",  # an invitation's calendar file
    "qrcode",  # a page showing a QR code
    "alembic",  # migrations (the test plugins' scans leave them out)
)

SCRIPT = """
import json, sys
import consultroom  # patches first, as the entry points do
from paste.deploy import loadapp
loadapp("config:" + sys.argv[1])
from consultroom.cli import build_parser
build_parser().format_help()  # every plugin's commands (consultroom_commands)
print(json.dumps([m for m in json.loads(sys.argv[2]) if m in sys.modules]))
"""

INI = """\
[app:main]
use = egg:consultroom
consultroom.base_domain = consultroom.test
consultroom.public_url = http://consultroom.test:6543
sqlalchemy.url = sqlite:///{db}
session.secret = start-imports-secret-0123456789-0123456789-0123
session.secure = false
mail.transport = folder
mail.folder = {mail}
mail.sender = Consultroom <noreply@consultroom.test>
realtime.bus = memory
"""


def test_starting_imports_no_sdk_that_only_a_feature_in_use_needs(tmp_path):
    ini = tmp_path / "app.ini"
    ini.write_text(INI.format(db=tmp_path / "app.sqlite", mail=tmp_path / "mail"))
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(ini), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == []
