"""The SMS backends (``tracker.sms``)."""
