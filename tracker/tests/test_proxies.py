"""Client addresses behind proxies (TRUSTED_PROXIES): the lockout, the access audit and the API
throttles see the real client, never the proxy's address, and never a forged X-Forwarded-For.

The bug this guards: behind the TLS proxy every request had the proxy's REMOTE_ADDR, so five
wrong passwords from anyone locked everyone out, and the audit recorded only the proxy.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from proposals.models import AccessEvent
from proposals.tests import factories as f

pytestmark = pytest.mark.django_db

ADMIN_LOGIN = "/admin/login/"
MY_LOGIN = "/my/login/"
PROXY = "10.0.0.2"  # the TLS proxy: every request through it has this REMOTE_ADDR
ATTACKER = "203.0.113.5"
OFFICE = "198.51.100.7"


@pytest.fixture
def one_proxy(axes_on):
    axes_on.TRUSTED_PROXIES = 1
    return axes_on


def through_proxy(client_address: str, *, forged: str = "", proxy: str = PROXY) -> Client:
    """A client behind the proxy: the proxy appends the peer it saw to X-Forwarded-For, after
    whatever the client sent itself (``forged``), as nginx's $proxy_add_x_forwarded_for does."""
    chain = f"{forged}, {client_address}" if forged else client_address
    return Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=chain)


def admin_login(client: Client, username: str, password: str):
    return client.post(ADMIN_LOGIN, {"username": username, "password": password, "next": "/admin/"})


def fail_five_times(client_for, username: str, url: str = ADMIN_LOGIN) -> None:
    for n in range(5):
        response = client_for(n).post(url, {"username": username, "password": "wrong-password"})
        assert response.status_code in (200, 429)


# --- The lockout behind the proxy ----------------------------------------------------------


def test_one_attacker_behind_the_proxy_does_not_lock_out_the_office(one_proxy, committee):
    """The operator's report: five wrong passwords behind the proxy locked everyone out."""
    fail_five_times(lambda n: through_proxy(ATTACKER, forged=f"192.0.2.{n + 1}"), "committee")

    locked = admin_login(through_proxy(ATTACKER), "committee", f.PASSWORD)
    assert locked.status_code == 429, "the attacker's address and that username are locked"
    assert "登录已暂停" in locked.content.decode()

    office = admin_login(through_proxy(OFFICE), "committee", f.PASSWORD)
    assert office.status_code == 302, "the committee signs in from its own address"
    assert office["Location"] == "/admin/"


def test_the_lock_is_for_that_address_and_username_together(one_proxy, committee):
    clerk = f.UserFactory(username="clerk_p")
    fail_five_times(lambda n: through_proxy(ATTACKER), clerk.username)
    assert admin_login(through_proxy(ATTACKER), clerk.username, f.PASSWORD).status_code == 429
    # The same username from another address, another username from the attacker's address.
    assert admin_login(through_proxy(OFFICE), clerk.username, f.PASSWORD).status_code == 302
    assert admin_login(through_proxy(ATTACKER), "committee", f.PASSWORD).status_code == 302


def test_the_proposer_sign_in_behind_the_proxy_is_keyed_the_same_way(one_proxy):
    member = f.UserFactory(username="member_p", is_staff=False)
    f.ProposerFactory(user=member)
    fail_five_times(lambda n: through_proxy(ATTACKER), "member_p", MY_LOGIN)
    attacker = through_proxy(ATTACKER)
    locked = attacker.post(MY_LOGIN, {"username": "member_p", "password": f.PASSWORD})
    assert locked.status_code == 429
    assert "_auth_user_id" not in attacker.session
    member_client = through_proxy(OFFICE)
    ok = member_client.post(MY_LOGIN, {"username": "member_p", "password": f.PASSWORD})
    assert ok.status_code == 302
    assert member_client.session["_auth_user_id"] == str(member.pk)


def test_axes_records_the_real_client_address(one_proxy, committee):
    from axes.models import AccessAttempt

    admin_login(through_proxy(ATTACKER, forged="192.0.2.9"), "committee", "wrong-password")
    attempt = AccessAttempt.objects.get()
    assert (attempt.username, attempt.ip_address) == ("committee", ATTACKER)


# --- Forged X-Forwarded-For ------------------------------------------------------------------


def test_without_trusted_proxies_a_forged_forwarded_for_is_ignored(axes_on, committee):
    """No proxy trusted (the default): X-Forwarded-For could be anyone's, so the lockout keys on
    REMOTE_ADDR; changing the header on every try does not dodge it."""
    axes_on.TRUSTED_PROXIES = 0
    direct = "192.0.2.10"

    def forging(n):
        return Client(REMOTE_ADDR=direct, HTTP_X_FORWARDED_FOR=f"203.0.113.{n + 1}")

    fail_five_times(forging, "committee")
    assert admin_login(forging(9), "committee", f.PASSWORD).status_code == 429
    from axes.models import AccessAttempt

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {direct}
    assert admin_login(Client(REMOTE_ADDR="192.0.2.11"), "committee", f.PASSWORD).status_code == 302


def test_with_trusted_networks_a_peer_outside_them_has_its_forwarded_for_ignored(
    axes_on, committee
):
    axes_on.TRUSTED_PROXIES = ["10.0.0.0/8", "172.16.0.0/12"]
    outsider = "192.0.2.66"  # reaches the application directly, not through the proxy

    def forging(n):
        return Client(REMOTE_ADDR=outsider, HTTP_X_FORWARDED_FOR=f"{OFFICE}, 10.0.0.{n + 5}")

    fail_five_times(forging, "committee")
    assert admin_login(forging(9), "committee", f.PASSWORD).status_code == 429
    from axes.models import AccessAttempt

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {outsider}
    # Through the trusted proxies (two of them: 172.16.5.5 forwarded to 10.0.0.2) the office
    # is the client, and it is not locked.
    office = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"{OFFICE}, 172.16.5.5")
    assert admin_login(office, "committee", f.PASSWORD).status_code == 302
    assert AccessEvent.objects.get(kind="login").ip_address == OFFICE


# --- The access audit ------------------------------------------------------------------------


def test_access_events_record_the_real_client_address(one_proxy, committee, clerk_a):
    fail_five_times(lambda n: through_proxy(ATTACKER, forged="192.0.2.1"), "committee")
    admin_login(through_proxy(OFFICE), "committee", f.PASSWORD)

    failed = AccessEvent.objects.filter(kind="login_failed")
    assert failed.count() >= 5
    assert set(failed.values_list("ip_address", flat=True)) == {ATTACKER}
    locked = AccessEvent.objects.filter(kind="locked_out")
    assert locked.exists()
    assert set(locked.values_list("ip_address", flat=True)) == {ATTACKER}
    assert AccessEvent.objects.get(kind="login").ip_address == OFFICE

    # A refusal (the middleware's 403) is recorded with the client's address too.
    clerk = through_proxy("198.51.100.20")
    clerk.force_login(clerk_a, backend="django.contrib.auth.backends.ModelBackend")
    assert clerk.get("/admin/proposals/transition/").status_code == 403
    refused = AccessEvent.objects.get(kind="refused")
    assert (refused.user, refused.ip_address) == (clerk_a, "198.51.100.20")
    assert not AccessEvent.objects.filter(ip_address=PROXY).exists()


# --- The API throttle ------------------------------------------------------------------------


@pytest.fixture
def low_anon_rate(settings):
    settings.TRUSTED_PROXIES = 1
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "2/min"},
    }
    cache.clear()
    yield settings
    cache.clear()


def test_the_anonymous_throttle_counts_each_client_behind_the_proxy(low_anon_rate):
    first, second = "198.51.100.31", "198.51.100.32"
    statuses = [through_proxy(first).get("/api/v1/sessions/").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    # Another client behind the same proxy has a bucket of its own.
    assert through_proxy(second).get("/api/v1/sessions/").status_code == 200
    # A forged entry in front of the chain does not give the first client a new bucket.
    forging = through_proxy(first, forged="192.0.2.200")
    assert forging.get("/api/v1/sessions/").status_code == 429


def test_without_trusted_proxies_the_throttle_keys_on_the_peer(low_anon_rate):
    low_anon_rate.TRUSTED_PROXIES = 0
    peer = "192.0.2.40"
    statuses = [
        Client(REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=f"198.51.100.{n + 1}")
        .get("/api/v1/sessions/")
        .status_code
        for n in range(3)
    ]
    assert statuses == [200, 200, 429]


# --- client_ip itself ------------------------------------------------------------------------

TWO_NETWORKS = ["10.0.0.0/8", "172.16.0.0/12"]


@pytest.mark.parametrize(
    ("trusted", "remote_addr", "forwarded_for", "expected"),
    [
        # No proxy trusted: the peer, whatever the header says.
        (0, "192.0.2.1", "203.0.113.5", "192.0.2.1"),
        ([], "192.0.2.1", "203.0.113.5", "192.0.2.1"),
        # A count: the N-th entry from the right; what the client wrote further left is ignored.
        (1, PROXY, "203.0.113.5", "203.0.113.5"),
        (1, PROXY, "1.2.3.4, 203.0.113.5", "203.0.113.5"),
        (1, PROXY, "1.2.3.4,203.0.113.5:51234", "203.0.113.5"),
        (1, PROXY, "[2001:db8::7]:443", "2001:db8::7"),
        (1, "::ffff:10.0.0.2", "::ffff:203.0.113.5", "203.0.113.5"),
        (2, PROXY, "203.0.113.5, 172.16.0.9", "203.0.113.5"),
        (2, PROXY, "9.9.9.9, 203.0.113.5, 172.16.0.9", "203.0.113.5"),
        (2, PROXY, "203.0.113.5", "203.0.113.5"),  # came through one proxy only: the farthest hop
        (1, PROXY, None, PROXY),  # not through the proxy (a health check on the host)
        (1, PROXY, "garbage, also garbage", PROXY),
        # Networks: the header only from a trusted peer, read from the right past trusted hops.
        (TWO_NETWORKS, "192.0.2.66", "198.51.100.7", "192.0.2.66"),
        (TWO_NETWORKS, PROXY, "198.51.100.7", "198.51.100.7"),
        (TWO_NETWORKS, PROXY, "1.2.3.4, 198.51.100.7, 172.16.5.5", "198.51.100.7"),
        (TWO_NETWORKS, PROXY, "10.1.1.1, 10.0.0.9", "10.1.1.1"),  # all trusted: the farthest
        (["10.0.0.2"], PROXY, "198.51.100.7", "198.51.100.7"),
        (["::ffff:10.0.0.0/104"], PROXY, "198.51.100.7", "198.51.100.7"),
        (["10.0.0.0/8", "not-a-network"], PROXY, "198.51.100.7", "198.51.100.7"),
        (["not-a-network"], PROXY, "198.51.100.7", PROXY),  # an invalid entry trusts nothing
        # Misconfigured in settings (manage.py check reports it): no proxy is trusted.
        ("1", PROXY, "203.0.113.5", PROXY),
        (-1, PROXY, "1.2.3.4, 203.0.113.5", PROXY),
        # No usable peer address.
        (0, "", None, None),
        (0, "not-an-address", None, None),
        (0, "fe80::1%eth0", None, "fe80::1"),
    ],
)
def test_client_ip(settings, rf, trusted, remote_addr, forwarded_for, expected):
    from proposals.client_ip import client_ip

    settings.TRUSTED_PROXIES = trusted
    headers = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for
    assert client_ip(rf.get("/", **headers)) == expected


def test_client_ip_answers_for_a_rest_framework_request(settings, rf):
    from rest_framework.request import Request

    from proposals.client_ip import client_ip

    settings.TRUSTED_PROXIES = 1
    request = Request(rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=ATTACKER))
    assert client_ip(request) == ATTACKER


class _ExplodingMeta(dict):
    def get(self, *args, **kwargs):
        raise RuntimeError("a broken adapter")


@pytest.mark.parametrize(
    "request_like",
    [
        None,
        object(),
        type("NoMeta", (), {"META": None})(),
        type("OddMeta", (), {"META": {"REMOTE_ADDR": 42, "HTTP_X_FORWARDED_FOR": b"1.2.3.4"}})(),
        type("Exploding", (), {"META": _ExplodingMeta(REMOTE_ADDR="10.0.0.2")})(),
    ],
)
def test_client_ip_never_raises(settings, request_like):
    from proposals.client_ip import client_ip

    settings.TRUSTED_PROXIES = 1
    assert client_ip(request_like) is None


# --- Configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (["10.0.0.0/33"], "'10.0.0.0/33' is neither a network nor an address"),
        (["10.0.0.0/8", "proxy.example"], "'proxy.example' is neither a network"),
        (-1, "TRUSTED_PROXIES is negative"),
        ("1", "TRUSTED_PROXIES is '1'"),
    ],
)
def test_a_bad_trusted_proxies_setting_fails_the_check(settings, value, message):
    from proposals.client_ip import check_trusted_proxies

    settings.TRUSTED_PROXIES = value
    (error,) = check_trusted_proxies()
    assert error.id == "proposals.E011"
    assert message in error.msg


@pytest.mark.parametrize("value", [0, 1, 2, [], ["10.0.0.0/8", "2001:db8::/32", "192.0.2.1"]])
def test_a_good_trusted_proxies_setting_passes_the_check(settings, value):
    from proposals.client_ip import check_trusted_proxies

    settings.TRUSTED_PROXIES = value
    assert check_trusted_proxies() == []


def _manage(*args: str, **environment: str):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from django.conf import settings

    env = {k: v for k, v in os.environ.items() if k not in ("TRUSTED_PROXIES", "API_NUM_PROXIES")}
    env.update(environment)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_api_num_proxies_still_set_fails_manage_py_check():
    """The setting TRUSTED_PROXIES replaced: kept, it would silently trust no proxy."""
    result = _manage("check", API_NUM_PROXIES="1")
    assert result.returncode != 0
    assert "proposals.E010" in result.stderr
    assert "Rename API_NUM_PROXIES=N to TRUSTED_PROXIES=N" in result.stderr


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("", "0"),
        ("1", "1"),
        (" 2 ", "2"),
        ("10.0.0.0/8, 172.16.0.0/12,", "['10.0.0.0/8', '172.16.0.0/12']"),
        ("192.0.2.1", "['192.0.2.1']"),
    ],
)
def test_trusted_proxies_is_read_from_the_environment(value, parsed):
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings; print(repr(settings.TRUSTED_PROXIES))",
        TRUSTED_PROXIES=value,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == parsed
