"""The one exception the virtual board's host tools raise for a problem the user can fix."""


class SimError(Exception):
    """A problem with the set-up or the request, with a message that says what to do."""
