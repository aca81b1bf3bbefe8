"""Demo data for ``manage.py load_demo``: the four seed letters' proposals, and a session of
synthetic proposals in every state, with logins for every role. It was ``tracker/demo.py`` and
``tracker/demo_replies.py``; split by subject under issue 18:

- ``data`` — the demo's "today", units, sessions, proposers, logins (the published passwords,
  written there alone) and the seed proposals;
- ``synthetic`` — the synthetic session: the kinds of story, the topics, the plan;
- ``texts`` — what the proposals say;
- ``loader`` — building it all (``load_demo``), idempotent, in one transaction;
- ``stories`` — the synthetic proposals played through the workflow, story by story;
- ``replies`` — the letters: the seed replies and the synthetic ones, and the story's clock.

Every status is reached through ``proposals.workflow`` — the demo replays each record's history
through the verbs, each by the person who took the step: a proposal is drafted and submitted by
its lead proposer (every proposer has an account; a group or party has a collective one), its
co-signers confirm it themselves, the committee files, returns, merges and assigns it, a unit's
clerk signs for it and logs the contacts. Two things a live workflow would not do:

* the seed proposals keep their real numbers (061, 050, 152045, 145054): before filing one, the
  session's ``last_serial`` is set to the serial before it, so ``file_proposal`` hands out exactly
  the real serial, and afterwards ``last_serial`` goes back to the highest serial in use;
* every step runs under the story's clock (``replies.story_clock``), so that what the verbs
  stamp "now" — the audit trail (``Transition``), submitted/filed/accepted times, contacts,
  completed due dates, letters and feedback — is the day of the record's history it happened on,
  in order, and never after the story's "today", not the moment the demo was loaded.

What ``manage.py load_demo``, ``settings.PUBLISHED_PASSWORDS``, ``bench/generate.py`` and the
tests import is re-exported here.
"""

from tracker.demo.data import (
    COMMITTEE_GROUP,
    CURRENT_SESSION,
    DEMO_TODAY,
    DEMO_USERS,
    SEED_PROPOSALS,
    SUPERVISION_GROUP,
    UNIT_STAFF_GROUP,
    UNITS,
    published_passwords,
)
from tracker.demo.loader import DemoReport, _group_permissions, load_demo

__all__ = [
    "COMMITTEE_GROUP",
    "CURRENT_SESSION",
    "DEMO_TODAY",
    "DEMO_USERS",
    "SEED_PROPOSALS",
    "SUPERVISION_GROUP",
    "UNITS",
    "UNIT_STAFF_GROUP",
    "DemoReport",
    "_group_permissions",
    "load_demo",
    "published_passwords",
]
