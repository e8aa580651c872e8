"""A plugin whose import fails."""

import consultroom_does_not_exist  # noqa: F401
