"""components/addresses.py: the allow-list breadth rule and the host-name rules the stack
settings and the policy pack share."""

from __future__ import annotations

import ipaddress

import pytest

from components.addresses import (
    allow_list_breadth_problem,
    dns_name_problem,
    https_url_problem,
    parse_network,
    private_host_problem,
    public_network_problem,
)
from tests.policy_fixtures import CLOUDFLARE_RANGES


def breadth(*entries: str) -> str | None:
    return allow_list_breadth_problem([ipaddress.ip_network(entry) for entry in entries])


@pytest.mark.parametrize(
    "entries",
    [
        ("0.0.0.0/0",),
        ("0.0.0.0/1", "128.0.0.0/1"),
        ("::/1", "8000::/1"),
        ("0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"),
        ("203.0.113.0/24", "10.0.0.0/8"),
        ("1.0.0.0/9", "2.0.0.0/9", "3.0.0.0/24"),
        ("2001:db8::/48", "2000::/3"),
    ],
)
def test_an_allow_list_covering_a_large_share_is_refused_however_it_is_spelled(entries: tuple[str, ...]):
    assert breadth(*entries) is not None


@pytest.mark.parametrize(
    "entries",
    [
        ("203.0.113.0/24",),
        ("10.0.0.0/9",),
        # Overlapping entries count once: ten copies of a /9 are still a /9.
        ("10.0.0.0/9",) * 10,
        ("2001:db8::/32", "198.51.100.7/32"),
        tuple(CLOUDFLARE_RANGES),
    ],
)
def test_operator_and_cdn_ranges_pass(entries: tuple[str, ...]):
    assert breadth(*entries) is None


def test_the_message_names_the_entries_to_blame():
    assert breadth("203.0.113.0/24", "0.0.0.0/0") == "0.0.0.0/0 admits every address"
    assert str(breadth("203.0.113.0/24", "0.0.0.0/1", "128.0.0.0/1")).startswith(
        "0.0.0.0/1, 128.0.0.0/1 together admit 100% of all IPv4 addresses"
    )
    assert str(breadth("1.0.0.0/9", "2.0.0.0/9")).startswith("1.0.0.0/9, 2.0.0.0/9 together admit 0.3906% of all IPv4")


@pytest.mark.parametrize("entry", ["10.0.0.0/8\n", "10.0.0.0/\u0668", "\u0661.2.3.4", "fe80::1%eth0", " 1.2.3.4", "10.0.0.1/8"])
def test_networks_are_plain_ascii_strict_cidrs(entry: str):
    assert parse_network(entry) is None


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("catalog.example.com", None),
        ("a" * 63 + ".example.com", None),
        (".".join(["a" * 63] * 3 + ["a" * 61]), None),  # 253 characters
        (".".join(["a" * 63] * 3 + ["a" * 62]), "is 254 characters long; a DNS name has at most 253"),
        ("a" * 64 + ".example.com", "has a label of 64 characters; a DNS label has at most 63"),
        ("catalog\u0663.example.com", "is not plain ASCII"),
        ("catalog.example.com\n", "holds a line break"),
        ("Catalog.example.com", "has an empty label, a character other than a-z"),
        ("catalog-.example.com", "has an empty label"),
        ("catalog..example.com", "has an empty label"),
        ("example", "has fewer than 2 labels"),
        ("192.0.2.1", "ends in an all-digit label"),
    ],
)
def test_dns_names(name: str, problem: str | None):
    found = dns_name_problem(name)
    assert (found is None) if problem is None else (found is not None and found.startswith(problem)), found


@pytest.mark.parametrize(
    ("host", "private"),
    [
        ("api.catalog-service.example.com", False),
        ("93.184.215.14", False),
        ("169.254.169.254", True),
        ("10.1.2.3", True),
        ("::1", True),
        ("fd00::1", True),
        ("metadata.internal", True),
        ("localhost", True),
    ],
)
def test_private_hosts(host: str, private: bool):
    assert (private_host_problem(host) is not None) == private


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("8.8.4.0/24", None),
        ("1.1.1.1/32", None),
        ("2606:4700::/32", None),
        ("10.0.0.0/8", "is not a public address"),
        ("100.64.0.0/10", "is not a public address"),
        # Ranges whose ends reach into special blocks: 0.0.0.0/8, the shared 100.64.0.0/10,
        # 255.255.255.255 (the network's own is_global passes all three).
        ("0.0.0.0/1", "is not a public address"),
        ("100.0.0.0/9", "is not a public address"),
        ("128.0.0.0/1", "is not a public address"),
        ("224.0.0.0/4", "is not a public address"),
        ("fe80::/10", "is not a public address"),
        ("203.0.113.0/24", "is a documentation range (RFC 5737): a placeholder that reaches no one"),
        ("198.51.100.7/32", "is a documentation range (RFC 5737): a placeholder that reaches no one"),
    ],
)
def test_public_means_every_end_of_the_range_is_a_global_host(entry: str, problem: str | None):
    assert public_network_problem(ipaddress.ip_network(entry)) == problem


@pytest.mark.parametrize(("host", "public"), [("8.8.8.8", True), ("100.64.0.1", False), ("224.0.0.1", False), ("::1", False)])
def test_a_host_address_is_public_by_the_same_rule(host: str, public: bool):
    assert (private_host_problem(host) is None) is public


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://hooks.slack.com/services/T01/B02/abc", None),
        ("https://api.catalog-service.example.com:8443/v2?x=1", None),
        ("https://93.184.215.14/v1", None),
        ("https://[2606:4700::6810:84e5]/v1", None),
        ("http://catalog.example.com", "must be an https:// URL with a host name"),
        ("https:///v1", "must be an https:// URL with a host name"),
        ("https://user:pw@catalog.example.com", "must carry no user, password or #fragment"),
        ("https://catalog.example.com/#part", "must carry no user, password or #fragment"),
        ("https://catalog.example.com/a b", "must be a URL without spaces"),
        ("https://catalog.example.com/<script>", "must be a URL without spaces"),
        ("https://catalog.exämple.com", "must be a URL without spaces"),
        ("https://catalog.example.com:99999", "has a port that is no number between 0 and 65535"),
        ("https://[fd00::1", "has a malformed [IPv6] host"),
        ("https://catalog.example.com:0", "has port 0"),
        ("https://-catalog.example.com", "must name its host by a DNS name or an IP address; its host has"),
        ("https://catalog_service.example.com", "must be a URL without spaces"),
    ],
)
def test_an_https_url_names_a_host_and_carries_nothing_unescaped(url: str, problem: str | None):
    found = https_url_problem(url)
    assert found == problem if problem is None else str(found).startswith(problem)
