from ehrlich.errors import NotAllowed, NotAuthenticated


class InvalidApiToken(NotAuthenticated):
    title = "Invalid API token"


class MissingScope(NotAllowed):
    title = "Missing scope"
