"""Filing under concurrency: serials stay gapless and unique when committee staff file at once."""

import threading

import pytest
from django.db import connection, connections

from proposals import workflow as wf
from proposals.models import Proposal
from proposals.tests import factories as f


@pytest.mark.django_db(transaction=True)
def test_concurrent_filing_yields_gapless_unique_serials():
    if connection.vendor != "postgresql":
        pytest.fail("this test needs PostgreSQL row locks; run it through `make test`")
    committee = f.CommitteeFactory()
    session = f.SessionFactory()
    proposals = [f.ProposalFactory(session=session) for _ in range(12)]
    # One proposal is filed twice at once: exactly one of the two calls may win.
    contested = proposals[0]
    jobs = [*proposals, contested]
    barrier = threading.Barrier(len(jobs))
    errors: list[Exception] = []

    def file_one(p: Proposal) -> None:
        try:
            barrier.wait()
            wf.file_proposal(p.pk, actor=committee)
        except wf.WorkflowError as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=file_one, args=(p,)) for p in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    serials = sorted(Proposal.objects.filter(session=session).values_list("serial", flat=True))
    assert serials == list(range(1, 13))
    session.refresh_from_db()
    assert session.last_serial == 12
    assert len(errors) == 1 and isinstance(errors[0], wf.WrongState)
