"""The one exception every business rule raises when it refuses a change outright."""


class Refused(ValueError):
    """A change the rules refuse as a whole (wrong state, wrong person); the message says why, for the user."""
