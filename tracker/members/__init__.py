"""Members' accounts (issue 21): the session's list of 委员 from Excel (``roster``), accounts
and invitations in bulk (``invitations``), 届满 deactivation that keeps history
(``lifecycle``), and the Celery tasks that send and sweep (``tasks``)."""
