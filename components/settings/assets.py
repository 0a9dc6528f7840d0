"""Assets settings: the Spaces bucket of front-end graphics and its CDN."""

from __future__ import annotations

from dataclasses import dataclass

from components.platform import platform_rules, value_problem
from components.regions import REGIONS
from components.settings.reader import ConfigReader, shown


@dataclass(frozen=True)
class AssetsSettings:
    region: str
    versioning: bool
    # Days a replaced or deleted object version is kept before the lifecycle rule expires it.
    noncurrent_version_days: int
    protect: bool
    cdn_ttl_seconds: int


# Production and staging keep replaced objects a while (a bad upload can be rolled back);
# only production's bucket is protected from deletion.
_VERSIONING = {"production": True, "staging": True, "dev": False}
_PROTECT = {"production": True, "staging": False, "dev": False}


def read_assets(reader: ConfigReader, kind: str) -> AssetsSettings:
    spaces_region = reader.required_string("spacesRegion", "the Spaces region of the assets bucket")
    if spaces_region not in REGIONS or not REGIONS[spaces_region].spaces:
        offered = ", ".join(slug for slug, region in REGIONS.items() if region.spaces)
        raise reader.error("spacesRegion", f"Spaces is not offered in {shown(spaces_region)}; choose one of {offered}")
    # The CDN API takes a few TTLs only (data/platform-rules.yaml); the provider checks none.
    ttl_rule = platform_rules().allowed("digitalocean:index/cdn:Cdn", "ttl")
    ttl = reader.integer("cdnTtlSeconds", 3600, int(min(ttl_rule.values)), int(max(ttl_rule.values)))
    problem = value_problem(ttl_rule, ttl)
    if problem:
        raise reader.error(
            "cdnTtlSeconds", f"{ttl} is not a TTL the DigitalOcean CDN takes: one of {', '.join(map(str, ttl_rule.values))}"
        )
    return AssetsSettings(
        region=spaces_region,
        versioning=_VERSIONING[kind],
        noncurrent_version_days=30,
        protect=_PROTECT[kind],
        cdn_ttl_seconds=ttl,
    )
