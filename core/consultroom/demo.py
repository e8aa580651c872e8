"""Demo data: one organisation with a user per role and a published set of
web pages, and a superuser for the console. Running it again changes
nothing."""

from sqlalchemy import select

from consultroom.accounts import service as accounts
from consultroom.accounts.models import Role, User
from consultroom.tenancy import service as tenancy
from consultroom.web.sites import public_base
from consultroom.webpages.models import WIDGET_BOOKING, WebPage, WebPageSet

DEMO_SUBDOMAIN = "demo"
DEMO_PASSWORD = "consultroom-demo"  # the documented demo login  # nosec B105
DEMO_USERS = [
    ("admin@demo.example", "Anna Admin", Role.org_admin, None),
    ("deptadmin@demo.example", "Dirk Department", Role.dept_admin, "General practice"),
    ("doctor@demo.example", "Dr. Petra Practitioner", Role.practitioner, "General practice"),
]
SUPERUSER = ("provider@localhost", "Hosting provider")
DEMO_PAGES = "demo-pages"


def _ensure_provider_side(request):
    db = request.dbsession
    if (
        db.scalar(select(User).where(User.email == SUPERUSER[0], User.organisation_id.is_(None)))
        is None
    ):
        db.add(
            User(
                email=SUPERUSER[0],
                name=SUPERUSER[1],
                role=Role.superuser,
                password_hash=request.passwords.hash(DEMO_PASSWORD),
            )
        )
    if tenancy.by_subdomain(db, DEMO_SUBDOMAIN) is None:
        tenancy.create_organisation(
            db,
            name="Demo Health Centre",
            subdomain=DEMO_SUBDOMAIN,
            max_users=10,
            departments=("General practice", "Physiotherapy"),
        )


def _ensure_staff(request):
    org = request.organisation
    departments = {d.name: d.id for d in org.departments}
    for email, name, role, dept in DEMO_USERS:
        if accounts.find_staff(request.dbsession, org, email) is None:
            accounts.create_staff(
                request,
                org,
                name=name,
                email=email,
                role=role,
                department_id=departments.get(dept),
                password=DEMO_PASSWORD,
            )


def _ensure_web_pages(request):
    org = request.organisation
    db = request.dbsession
    if db.scalar(select(WebPageSet.id).where(WebPageSet.organisation_id == org.id)) is not None:
        return
    page_set = WebPageSet(organisation_id=org.id, name=org.name, slug=DEMO_PAGES, published=True)
    page_set.pages = [
        WebPage(
            organisation_id=org.id,
            position=0,
            menu_title="Book online",
            title="Video consultations",
            main_text="<p>See your doctor or physiotherapist from home.</p>",
            widget=WIDGET_BOOKING,
        ),
        WebPage(
            organisation_id=org.id,
            position=1,
            menu_title="How it works",
            main_text="<p>You get a link by e-mail; open it at the time of your appointment.</p>",
        ),
    ]
    db.add(page_set)


def create_demo(env):
    env.run(_ensure_provider_side)
    env.run(_ensure_staff, DEMO_SUBDOMAIN)
    env.run(_ensure_web_pages, DEMO_SUBDOMAIN)
    console = public_base(env.settings)
    site = public_base(env.settings, DEMO_SUBDOMAIN)
    pages = public_base(env.settings, DEMO_PAGES)
    print(
        f"\nConsultroom demo is ready.\n\n  Organisation: {site}/\n  Console:      {console}/\n"
        f"  Web pages:    {pages}/\n"
    )
    print(f"  Password for every demo login: {DEMO_PASSWORD}\n")
    for email, _name, role, _dept in DEMO_USERS:
        print(f"  {role.value:14} {email}   ({site}/login)")
    print(f"  {'superuser':14} {SUPERUSER[0]}   ({console}/login)\n")
