from ehrlich.errors import Conflict, EhrlichError


class ConsentRefused(Conflict):
    """The action is not allowed from the current state (e.g. confirm without a request)."""

    title = "Consent change refused"


class AddressSuppressed(Conflict):
    """The address unsubscribed or was erased: only the person can opt in again."""

    title = "Address suppressed"


class SignupsClosed(EhrlichError):
    """No mail can be sent (SMTP is not set up), so no double opt-in can be started."""

    title = "Signups closed"
