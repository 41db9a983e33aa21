"""Errors of staff access: API tokens, sessions, forms."""

from ehrlich.errors import NotAllowed, NotAuthenticated


class InvalidApiToken(NotAuthenticated):
    title = "Invalid API token"


class MissingScope(NotAllowed):
    title = "Missing scope"


class SessionExpired(NotAuthenticated):
    title = "Sign-in required"


class ReauthenticationRequired(NotAllowed):
    title = "Confirm it is you"


class CsrfRejected(NotAllowed):
    title = "Form expired"
