"""The client's address of a request: the one answer the sign-in lockout (django-axes), the
access audit, the API throttles and the logs all use.

``settings.TRUSTED_PROXIES`` says which hops in front of the application may be believed:

- ``0`` or ``[]`` (the default): none. ``REMOTE_ADDR`` is the client; ``X-Forwarded-For`` is
  ignored, since whoever connects can write anything into it.
- a count ``N``: exactly N proxies stand in front (``1``: the TLS proxy of the README). Each
  appends the address it saw to ``X-Forwarded-For``, so the client is the N-th entry from the
  right; what stands further left was written by the client and is not believed.
- a list of networks or addresses (``["10.0.0.0/8", "172.16.0.0/12"]``): ``X-Forwarded-For``
  is read only when ``REMOTE_ADDR`` is in them, and then from the right, past every hop that is
  in them too; the first hop outside them is the client.

The header is parsed with python-ipware, the parser under django-ipware (ports, brackets,
RFC 7239 ``for=`` forms, IPv4-mapped IPv6). django-ipware's own ``get_client_ip`` is not used:
its ``proxy_trusted_ips`` are matched by position against the last entries of the header and
never against ``REMOTE_ADDR``, so a client that reaches the application directly could write
the whole chain itself; its ``proxy_count`` counts the hops *inside* the header (one less than
the proxies in front) and gives up, rather than taking the farthest hop, on a shorter chain.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from python_ipware.modern.parsers import (
    IpAddressType,
    parse_ip,
    split_proxy_chain,
    unwrap_ipv4_network,
)

HINT = (
    'Set TRUSTED_PROXIES to the number of proxies in front of the application ("1" behind the '
    'TLS proxy) or to their networks, comma-separated ("10.0.0.0/8,172.16.0.0/12"); leave it '
    "unset when clients connect directly."
)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_ip(request: Any) -> str | None:
    """The address of the client that sent ``request``, or ``None`` when there is none.

    Cheap (no I/O) and never raises, whatever it is given: a Django or DRF request, a request
    without ``META`` or with odd values in it, or ``None``.
    """
    try:
        meta = getattr(request, "META", None)
        if not meta:
            return None
        ip = _resolve(meta, settings.TRUSTED_PROXIES)
    except Exception:
        # Nothing is logged here: the logs call this function for every record, so a log line
        # about a broken request would ask again, and again.
        return None
    return _text(ip) if ip is not None else None


def _resolve(meta: Any, trusted: Any) -> IpAddressType | None:
    peer = _parse(meta.get("REMOTE_ADDR"))
    if isinstance(trusted, bool) or not isinstance(trusted, int | list | tuple):
        return peer  # misconfigured (manage.py check says so): trust no proxy
    if not trusted or (isinstance(trusted, int) and trusted < 0):
        return peer
    forwarded = meta.get("HTTP_X_FORWARDED_FOR")
    chain = split_proxy_chain(forwarded) if isinstance(forwarded, str) else None
    if not chain:
        return peer  # not through a proxy (a health check on the host, say)
    if isinstance(trusted, int):
        # The peer is the nearest of the N proxies; the other N-1 appended the chain's last
        # entries, so the client is the N-th from the right. A shorter chain came through
        # fewer proxies: its farthest hop is the best we know.
        return chain[-trusted] if len(chain) >= trusted else chain[0]
    networks = _networks(tuple(trusted))
    if peer is None or not _in(peer, networks):
        return peer  # not from a proxy we trust: its X-Forwarded-For could be anyone's
    for hop in reversed(chain):
        if not _in(hop, networks):
            return hop
    return chain[0]  # every hop is a trusted address: the farthest one is the client


def _parse(value: Any) -> IpAddressType | None:
    return parse_ip(value) if isinstance(value, str) else None


def _text(ip: IpAddressType) -> str:
    # Without an IPv6 zone ("fe80::1%eth0"), which neither PostgreSQL's inet nor a cache key
    # needs; IPv4-mapped addresses were already unwrapped by the parser.
    return str(ip).split("%", 1)[0]


def _in(ip: IpAddressType, networks: tuple[Network, ...]) -> bool:
    return any(ip.version == net.version and ip in net for net in networks)


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """The valid entries (an invalid one is reported by ``manage.py check`` and trusts nothing)."""
    networks = []
    for entry in entries:
        try:
            networks.append(_network(entry))
        except (TypeError, ValueError):
            continue
    return tuple(networks)


def _network(entry: str) -> Network:
    # "::ffff:10.0.0.0/104" becomes 10.0.0.0/8, as the parser unwraps IPv4-mapped hops.
    return unwrap_ipv4_network(ipaddress.ip_network(entry.strip(), strict=False))


@register()
def check_trusted_proxies(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """TRUSTED_PROXIES is a count or a list of networks; the setting it replaced is not set."""
    errors: list[CheckMessage] = []
    if getattr(settings, "API_NUM_PROXIES_IN_ENVIRONMENT", None) is not None:
        errors.append(
            Error(
                "API_NUM_PROXIES is no longer read: TRUSTED_PROXIES replaced it and applies to "
                "the sign-in lockout, the access audit and the logs as well as the API.",
                hint="Rename API_NUM_PROXIES=N to TRUSTED_PROXIES=N in the environment. " + HINT,
                id="proposals.E010",
            )
        )
    trusted = getattr(settings, "TRUSTED_PROXIES", 0)
    if isinstance(trusted, bool) or not isinstance(trusted, int | list | tuple):
        return [
            *errors,
            Error(f"TRUSTED_PROXIES is {trusted!r}.", hint=HINT, id="proposals.E011"),
        ]
    if isinstance(trusted, int):
        if trusted < 0:
            errors.append(Error("TRUSTED_PROXIES is negative.", hint=HINT, id="proposals.E011"))
        return errors
    for entry in trusted:
        try:
            _network(entry)
        except (AttributeError, TypeError, ValueError):
            errors.append(
                Error(
                    f"TRUSTED_PROXIES: {entry!r} is neither a network nor an address.",
                    hint=HINT,
                    id="proposals.E011",
                )
            )
    return errors
