"""The one exception type for mistakes a user can fix (bad recipe, missing file, ...).

The CLI prints its message and exits with status 2, without a traceback; anything
else is a bug and keeps its traceback.
"""


class UserError(Exception):
    """A problem in the user's input, with a message that says what to fix."""

    exit_code = 2
