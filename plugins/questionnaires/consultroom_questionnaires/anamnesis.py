"""The default anamnesis questionnaire that every organisation gets when it
enables the plugin, written in the organisation's language (its texts are
in this plugin's translation domain). Enabling again, after a disable,
keeps the one made the first time (or its deletion)."""

from sqlalchemy import exists, select

from consultroom.db.scope import all_organisations
from consultroom_questionnaires import fieldtypes
from consultroom_questionnaires.i18n import _, localizer_for
from consultroom_questionnaires.models import Questionnaire, Version

TITLE = _("Anamnesis")
# (type, label, help, required, options)
FIELDS = (
    ("title", _("About you"), "", False, ()),
    (
        "paragraph",
        _("Your answers help us prepare your consultation."),
        _("They are kept encrypted and read only by the staff who treat you."),
        False,
        (),
    ),
    ("date", _("Date of birth"), "", True, ()),
    ("country", _("Country of birth"), "", False, ()),
    (
        "single_choice",
        _("Sex"),
        "",
        False,
        (_("Female"), _("Male"), _("Other"), _("I prefer not to say")),
    ),
    ("number", _("Height in cm"), "", False, ()),
    ("number", _("Weight in kg"), "", False, ()),
    ("title", _("Your complaint"), "", False, ()),
    (
        "long_text",
        _("What is the reason for your consultation?"),
        _("Describe it in your own words."),
        True,
        (),
    ),
    (
        "dropdown",
        _("How long have you had this complaint?"),
        "",
        False,
        (
            _("Less than a week"),
            _("One to four weeks"),
            _("One to six months"),
            _("Longer than six months"),
        ),
    ),
    (
        "image",
        _("A photo of the complaint, if it helps"),
        _("For example of a rash or a wound."),
        False,
        (),
    ),
    ("title", _("Your health"), "", False, ()),
    (
        "multiple_choice",
        _("Do you have any of these conditions?"),
        _("Tick all that apply."),
        False,
        (
            _("Diabetes"),
            _("High blood pressure"),
            _("Heart disease"),
            _("Asthma or COPD"),
            _("Epilepsy"),
            _("Cancer"),
        ),
    ),
    ("long_text", _("Which medicines do you take?"), _("Name, strength and how often."), False, ()),
    ("yes_no", _("Are you allergic to any medicines?"), "", True, ()),
    ("short_text", _("If so, to which?"), "", False, ()),
    ("single_choice", _("Do you smoke?"), "", False, (_("Never"), _("I stopped"), _("Yes"))),
    ("number", _("Glasses of alcohol per week"), "", False, ()),
    ("yes_no", _("Are you pregnant or could you be?"), "", False, ()),
    ("long_text", _("Operations or hospital stays in the past"), "", False, ()),
    ("long_text", _("Illnesses that run in your family"), "", False, ()),
    ("short_text", _("Your GP"), "", False, ()),
)


def anamnesis_fields(language):
    t = localizer_for(language).translate
    return [
        {
            "key": fieldtypes.new_key(),
            "type": kind,
            "label": t(label),
            "help": t(help_text) if help_text else "",
            "required": required,
            "options": [t(option) for option in options],
        }
        for kind, label, help_text, required, options in FIELDS
    ]


def ensure_default(organisation, dbsession):
    """Make the organisation's anamnesis questionnaire, unless it has had one."""
    # The console enables plugins for an organisation that is not the
    # request's: look at that one organisation's rows only.
    with all_organisations(dbsession):
        made = dbsession.scalar(
            select(
                exists().where(
                    Questionnaire.organisation_id == organisation.id,
                    Questionnaire.is_default.is_(True),
                )
            )
        )
    if made:
        return None
    language = organisation.language or "en"
    questionnaire = Questionnaire(organisation_id=organisation.id, is_default=True)
    questionnaire.versions.append(
        Version(
            organisation_id=organisation.id,
            title=localizer_for(language).translate(TITLE),
            fields=anamnesis_fields(language),
        )
    )
    dbsession.add(questionnaire)
    dbsession.flush()
    return questionnaire
