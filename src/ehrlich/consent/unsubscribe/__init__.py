"""Unsubscribing: the one-click link of every mail (RFC 8058) and the mailbox behind its
mailto: (RFC 2369), with the check that the mailbox is read."""
