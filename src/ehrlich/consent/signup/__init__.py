"""Signup with double opt-in: the form's rules, the offers of the published notice, the
bot defences, the confirmation links and mail, and the expiry of unanswered requests."""
