"""What a network address or host name may be: rules the stack settings and the policy pack
share, so a value the settings accept is one the pack accepts and the other way round.

Standard library only: the policy pack imports this module from its own virtualenv, which
has no cloud SDKs.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from collections.abc import Iterable
from fractions import Fraction

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# An allow-list (who may reach the Kubernetes API, or a load balancer) that admits this
# share of an address family or more is an open door, whatever its entries look like:
# [0.0.0.0/1, 128.0.0.0/1] admits everyone just as 0.0.0.0/0 does. A /8's worth of
# addresses is already 16 million hosts; no operator's or CDN's egress is that wide
# (all of Cloudflare's IPv4 ranges together are about a 2,800th of the space).
MAX_ALLOW_LIST_SHARE = Fraction(1, 256)

# RFC 1035 section 2.3.4 and RFC 1123: a name of at most 253 characters (255 octets on the
# wire), labels of 1..63 letters, digits and hyphens, no hyphen at either end. Names here
# are lowercase and ASCII; an internationalised name is written in its xn-- form.
MAX_DNS_NAME = 253
_DNS_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)", re.ASCII)
_ALL_DIGITS = re.compile(r"[0-9]+", re.ASCII)

# Names that never resolve to a public address (RFC 6761 localhost, RFC 6762 .local,
# the .internal namespace cloud providers use for metadata services).
_PRIVATE_SUFFIXES = ("localhost", "local", "internal")

# One email address, ASCII only: a local part of at most 64 characters (RFC 5321 4.5.3.1.1)
# of the characters mail systems take unquoted, a domain of DNS labels (any case) ending in a
# top-level label of 2..63 characters that is not all digits (no one-letter or numeric
# top-level domain exists), at most 254 characters in all (RFC 5321 4.5.3.1.3 with errata).
EMAIL = re.compile(
    r"(?=.{1,254}\Z)[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"(?=[A-Za-z0-9-]*[A-Za-z])[A-Za-z0-9][A-Za-z0-9-]{0,61}[A-Za-z0-9]",
    re.ASCII,
)

# What a URL carries unescaped (RFC 3986): after the host, unreserved characters,
# sub-delims, ':', '@', '/', '?' and '%' escapes; in the host part, a name, an IPv4 address or
# a bracketed IPv6 one, and a port.
_URL_REST = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@/?%-]*", re.ASCII)
_URL_NETLOC = re.compile(r"[A-Za-z0-9.:\[\]-]+", re.ASCII)
_URL_CHARACTERS = "must be a URL without spaces, quotes, control characters or non-ASCII characters (escape them as %XX)"

# RFC 5737 documentation ranges: placeholders that reach no one (the shipped default of
# marketplace:controlPlaneAllowList is one; `ops preflight` refuses them before a deploy).
DOCUMENTATION_RANGES = tuple(ipaddress.IPv4Network(block) for block in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"))


def parse_network(entry: str) -> IPNetwork | None:
    """An address or CIDR range written in plain ASCII (no zone index), or None."""
    if not entry.isascii() or "%" in entry:
        return None
    try:
        return ipaddress.ip_network(entry, strict=True)
    except ValueError:
        return None


def parse_address(host: str) -> IPAddress | None:
    """An IP address literal (IPv6 without brackets, no zone index), or None."""
    if not host.isascii() or "%" in host:
        return None
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _percent(share: Fraction) -> str:
    value = float(share * 100)
    return f"{value:.4g}%"


def _share(networks: list[IPNetwork]) -> Fraction:
    collapsed = ipaddress.collapse_addresses(networks)  # type: ignore[type-var]
    return Fraction(sum(network.num_addresses for network in collapsed), 2 ** networks[0].max_prefixlen)


def allow_list_breadth_problem(networks: Iterable[IPNetwork]) -> str | None:
    """Why an allow-list admits too large a share of an address family, or None.

    The share is counted on the union of the ranges, so overlapping entries count once
    and no spelling of "everyone" (one /0, two /1s, four /2s, ...) slips through. The
    message names the entries to blame: each wide one, or all when only their sum is."""
    by_version: dict[int, list[IPNetwork]] = {}
    for network in networks:
        by_version.setdefault(network.version, []).append(network)
    for version, members in sorted(by_version.items()):
        if _share(members) < MAX_ALLOW_LIST_SHARE:
            continue
        everyone = [network for network in members if network.prefixlen == 0]
        if everyone:
            return f"{everyone[0]} admits every address"
        culprits = [network for network in members if _share([network]) >= MAX_ALLOW_LIST_SHARE] or members
        verb = "together admit" if len(culprits) > 1 else "admits"
        return (
            f"{', '.join(map(str, culprits))} {verb} {_percent(_share(culprits))} of all IPv{version} addresses "
            f"(an allow-list may admit less than {_percent(MAX_ALLOW_LIST_SHARE)}, a /8's worth)"
        )
    return None


def dns_name_problem(name: str, *, min_labels: int = 2) -> str | None:
    """Why `name` is not a lowercase DNS host name of at least `min_labels` labels, or None;
    the reason reads after "which" ("which is 300 characters long; ...")."""
    if not name.isascii():
        return "is not plain ASCII (write an internationalised name in its xn-- form)"
    if not name.isprintable():
        return "holds a line break, tab or other control character"
    if len(name) > MAX_DNS_NAME:
        return f"is {len(name)} characters long; a DNS name has at most {MAX_DNS_NAME}"
    labels = name.split(".")
    for label in labels:
        if len(label) > 63:
            return f"has a label of {len(label)} characters; a DNS label has at most 63"
        if not _DNS_LABEL.fullmatch(label):
            return "has an empty label, a character other than a-z, 0-9 and '-', or a hyphen at a label's end"
    if len(labels) < min_labels:
        return f"has fewer than {min_labels} labels"
    if _ALL_DIGITS.fullmatch(labels[-1]):
        return "ends in an all-digit label: that is an address, not a name"
    return None


def is_documentation_range(network: IPNetwork) -> bool:
    return isinstance(network, ipaddress.IPv4Network) and any(network.subnet_of(block) for block in DOCUMENTATION_RANGES)


def public_network_problem(network: IPNetwork) -> str | None:
    """Why a range holds addresses that are not public internet hosts, or None; the reason
    reads after the range ("10.0.0.0/8 is not a public address").

    Public is the standard library's `is_global` (the IANA special-purpose registries) of
    the range's first and last address: a network's own `is_global` only asks whether the
    whole range sits inside one special block, so it would pass 0.0.0.0/1 or 100.0.0.0/9,
    which reach into 0.0.0.0/8 and the shared (CGNAT) 100.64.0.0/10. Multicast is global
    to the registry but no host."""
    if is_documentation_range(network):
        return "is a documentation range (RFC 5737): a placeholder that reaches no one"
    if not (network.network_address.is_global and network.broadcast_address.is_global) or network.is_multicast:
        return "is not a public address"
    return None


def email_problem(address: str) -> str | None:
    """Why `address` is not one email address, or None; the reason reads after the config key."""
    return None if EMAIL.fullmatch(address) else "must be one email address"


def https_url_problem(url: str) -> str | None:
    """Why `url` is not a plain https:// URL of a named host, or None. The reason reads after
    the config key and never repeats the URL: a webhook URL is a secret."""
    if not url.isascii() or not url.isprintable() or " " in url:
        return _URL_CHARACTERS
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "has a malformed [IPv6] host"
    try:
        port = parts.port
    except ValueError:
        return "has a port that is no number between 0 and 65535"
    if parts.scheme != "https" or not parts.hostname:
        return "must be an https:// URL with a host name"
    if parts.username is not None or parts.password is not None or "#" in url:
        return "must carry no user, password or #fragment"
    if not _URL_NETLOC.fullmatch(parts.netloc) or not _URL_REST.fullmatch(url[len("https://") + len(parts.netloc) :]):
        return _URL_CHARACTERS
    if port == 0:
        return "has port 0: name the port the service listens on (1..65535), or none for 443"
    host = parts.hostname
    problem = None if parse_address(host) is not None else dns_name_problem(host)
    if problem:
        return f"must name its host by a DNS name or an IP address; its host {problem}"
    return None


def private_host_problem(host: str) -> str | None:
    """Why `host` (a DNS name or an IP literal) is no public internet host, or None."""
    address = parse_address(host)
    if address is not None:
        if public_network_problem(ipaddress.ip_network(address)):
            return f"{host} is a private, loopback, link-local or reserved address"
        return None
    if host.rsplit(".", 1)[-1] in _PRIVATE_SUFFIXES:
        return f"{host} is a local name that never resolves to a public address"
    return None
