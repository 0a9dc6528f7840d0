"""Cloudflare load-balancing quotas across the repository's stacks.

Pools, endpoints (origins), monitors and load balancers are counted per Cloudflare account,
not per stack, and the account refuses one past its quota ("Exceeded quota",
load-balancing/troubleshooting/common-error-codes): a green generation adds an endpoint to
its region's pool, so an upgrade that overlaps another stack's can run out half-way through
a deploy. `ops upgrade` checks the headroom of the edited stack's account, over every stack
file in the repository, before it writes the change. The quotas are the plan's
(`marketplace:cloudflarePlan`, `marketplace:cloudflareQuotas`; data/cloudflare-plans.yaml).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from components.settings import ZONE_STACK, ConfigError, StackSettings, parse_settings
from components.settings.edge import LoadBalancingQuotas
from offline.stack_config import load_stack_config, stack_names


class QuotaError(Exception):
    pass


@dataclass(frozen=True)
class Usage:
    load_balancers: int = 0
    pools: int = 0
    endpoints: int = 0
    monitors: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


def usage(settings: StackSettings) -> Usage:
    """What one stack holds in its Cloudflare account: one load balancer and monitor, a pool
    per region, an endpoint per cluster generation. Personal stacks hold none."""
    if not settings.edge.load_balanced:
        return Usage()
    endpoints = sum(len(settings.generations[region]) for region in settings.regions)
    return Usage(load_balancers=1, pools=len(settings.regions), endpoints=endpoints, monitors=1)


def account_usage(stacks: Iterable[StackSettings], account: str) -> Usage:
    return sum((usage(s) for s in stacks if s.cloudflare_account_id == account), Usage())


def over_quota(used: Usage, quotas: LoadBalancingQuotas) -> list[str]:
    return [
        f"{getattr(used, f.name)} {f.name.replace('_', ' ')} (quota {getattr(quotas, f.name)})"
        for f in fields(Usage)
        if getattr(used, f.name) > getattr(quotas, f.name)
    ]


def _settings(stack: str, root: Path, text: str | None) -> StackSettings:
    config = load_stack_config(stack, root, stack_text=text)
    # Only the shape matters here: a stand-in token, as the plan check of `ops upgrade` uses,
    # and no minor's end of life (the count does not depend on it, and a stack past one is
    # what `ops upgrade` is run to cure).
    return parse_settings(
        stack, config.values, config.secret_keys, environ={"DIGITALOCEAN_TOKEN": "check"}, today=datetime.date.min
    )


def _counted(stack: str, root: Path, text: str | None) -> StackSettings:
    try:
        return _settings(stack, root, text)
    except ConfigError as error:
        raise QuotaError(f"cannot count Cloudflare usage: {error}") from None


def repository_stacks(root: Path, replaced: Mapping[str, str]) -> list[StackSettings]:
    """The settings of every stack file in `root` but the zone stack's (it holds no load
    balancer), with the texts in `replaced` instead of the files' own."""
    return [_counted(name, root, replaced.get(name)) for name in stack_names(root) if name != ZONE_STACK]


def account_quotas(stacks: Iterable[StackSettings], account: str) -> LoadBalancingQuotas:
    """The account's quotas: the smallest any of its stacks states (they should agree)."""
    stated = [s.edge.plan.quotas for s in stacks if s.cloudflare_account_id == account]
    return LoadBalancingQuotas(*(min(getattr(q, f.name) for q in stated) for f in fields(LoadBalancingQuotas)))


def check_headroom(stack: str, root: Path, before: str, after: str) -> str:
    """A one-line account of the edited stack's Cloudflare account after the change;
    QuotaError when the change adds objects past a quota."""
    stacks_after = repository_stacks(root, {stack: after})
    edited = next(s for s in stacks_after if s.stack == stack)
    # The other stacks are the same on both sides: only the edited one is read again.
    stacks_before = [_counted(stack, root, before) if s is edited else s for s in stacks_after]
    account = edited.cloudflare_account_id
    quotas = account_quotas(stacks_after, account)
    used_before = account_usage(stacks_before, account)
    used_after = account_usage(stacks_after, account)
    exceeded = over_quota(used_after, quotas)
    grows = any(getattr(used_after, f.name) > getattr(used_before, f.name) for f in fields(Usage))
    if exceeded and grows:
        raise QuotaError(
            f"Cloudflare account {account} would hold {', '.join(exceeded)} across this repository's stacks "
            f"on its {edited.edge.plan.name} plan: finish or roll back another upgrade first, or raise the "
            "subscription and set marketplace:cloudflareQuotas"
        )
    return (
        f"Cloudflare account {account}: {used_after.endpoints} of {quotas.endpoints} endpoints, "
        f"{used_after.pools} of {quotas.pools} pools, {used_after.monitors} of {quotas.monitors} monitors"
    )
