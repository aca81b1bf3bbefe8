"""The project's e-mail, by subject (it was ``tracker/notify.py``, split under issue 18):

- ``ledger`` — the sending machine, generic over the ledger models (``tracker.models.Outgoing``):
  claim a row under a lease, build, send, mark it sent; retry with backoff, fail after the
  last attempt; the ``unsent`` sweep; the admin's ``requeue_failed``; ``enqueue`` through the
  task each ledger registered (``register_sender``);
- ``digests`` — the daily digest of the reminders the scan wrote (``tracker.reminders``);
- ``notices`` — the event notices: per workflow event, who is told and with what words, and
  the handlers ``TrackerConfig.ready`` registers with ``proposals.events``;
- ``members`` — what members hear about their proposals (issue 21): the sweep of the audit
  trail, by e-mail or 短信 (``tracker.sms``), on the ``MemberNotice`` ledger.

The layers, each importing only those below it at module level (no import inside a function
to dodge a cycle; ``tracker/tests/test_module_structure.py`` checks it):

    tracker.members.tasks          the members' tasks (invitations, notices, the sweep)
    tracker.tasks                  the Celery tasks; registers them as the ledgers' senders
    tracker.my.login_links         sign-in links (their own ledger, ``LoginLinkMail``)
    tracker.mail.digests           ← tracker.reminders (which items still stand)
    tracker.mail.notices           ← tracker.mail.members (the 会办意见 mail)
    tracker.mail.members           ← tracker.sms
    tracker.reminders              the daily scan; queues its digests through the ledger
    tracker.mail.ledger            the bottom: models and settings only

The Celery task names (``tracker.tasks.send_digest``, ``tracker.tasks.send_event_notice`` …)
did not change with the split: messages already queued still find their task.
"""
