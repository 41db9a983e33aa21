"""Consent over HTTP: the public signup, confirmation, preference and unsubscribe pages,
the consent and signup API, and the console's consent pages."""
