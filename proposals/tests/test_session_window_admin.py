"""The committee sets a session's submission window in the admin (issue 21): /my/ offers a
session for new proposals only within it."""

import datetime

import pytest
from django.urls import reverse

from proposals.tests import factories as f

pytestmark = pytest.mark.django_db


def form_data(session, **changes):
    data = {
        "district": session.district,
        "name": session.name,
        "term": session.term,
        "meeting": session.meeting,
        "year": session.year,
        "opens_on": "",
        "closes_on": "",
        "number_template": session.number_template,
        "submissions_open_from": "",
        "submissions_open_until": "",
    }
    data.update(changes)
    return data


def test_the_committee_sets_the_window_and_it_decides_the_day(client):
    session = f.SessionFactory()
    client.force_login(f.CommitteeFactory())
    url = reverse("admin:proposals_session_change", args=[session.pk])
    page = client.get(url)
    assert "submissions_open_from" in page.content.decode()
    response = client.post(
        url,
        form_data(session, submissions_open_from="2027-01-05", submissions_open_until="2027-01-20"),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    session.refresh_from_db()
    assert session.takes_submissions_on(datetime.date(2027, 1, 10))
    assert not session.takes_submissions_on(datetime.date(2027, 1, 21))


def test_a_window_that_ends_before_it_starts_is_refused_in_chinese(client):
    session = f.SessionFactory()
    client.force_login(f.CommitteeFactory())
    url = reverse("admin:proposals_session_change", args=[session.pk])
    response = client.post(
        url,
        form_data(session, submissions_open_from="2027-01-20", submissions_open_until="2027-01-05"),
    )
    assert response.status_code == 200
    assert "提交截止日期不能早于开始日期。" in response.content.decode()
    session.refresh_from_db()
    assert not session.has_submission_window
