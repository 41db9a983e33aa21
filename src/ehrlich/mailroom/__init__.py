"""The staff's side of outgoing mail: whether it is on, the console's Mail page with a
test mail, and the posture check that says so. The transport itself is `ehrlich.mail`
(infrastructure, which imports no domain)."""
