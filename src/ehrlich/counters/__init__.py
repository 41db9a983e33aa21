"""Shared counters for throttling (staff sign-in, signups, CAPTCHA replay): Redis or the
database, behind `CounterStore`. Its own package, so that auth and captcha both use it
without importing each other."""
