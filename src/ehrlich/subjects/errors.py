from ehrlich.errors import Conflict, Gone, NotFound


class SubjectNotFound(NotFound):
    title = "Subject not found"


class UnknownEmail(SubjectNotFound):
    title = "No contact with this email address"


class SubjectErased(Gone):
    title = "Subject erased"


class DuplicateContact(Conflict):
    title = "Contact belongs to another subject"
