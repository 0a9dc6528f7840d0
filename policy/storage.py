"""Spaces buckets: never listable by the public; in production, recoverable and hard to delete."""

from __future__ import annotations

from pulumi_policy import ResourceValidationArgs, ResourceValidationPolicy

from policy.common import UNKNOWN, Report, is_true, kind_of, peek

BUCKET = "digitalocean:index/spacesBucket:SpacesBucket"


def _private_acl(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type != BUCKET:
        return
    acl = peek(args.props, "acl")
    # Explicit, not the provider's default: a default can change under us between releases.
    if acl is not UNKNOWN and acl != "private":
        shown = "no acl" if acl is None else f"acl {acl!r}"
        report(
            f"the bucket has {shown}: set acl='private' (anyone could list a public-read bucket; "
            "the CDN serves objects uploaded public-read)"
        )


def _production_versioning(args: ResourceValidationArgs, report: Report) -> None:
    production = args.resource_type == BUCKET and kind_of(args.urn) == "production"
    if production and not is_true(peek(args.props, "versioning", "enabled")):
        report("production buckets keep old versions (versioning={enabled: True}): an overwrite or delete stays recoverable")


def _production_protect(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type == BUCKET and kind_of(args.urn) == "production" and not args.opts.protect:
        report("production buckets are protected (ResourceOptions(protect=True)): `pulumi destroy` must not empty them")


private_acl = ResourceValidationPolicy(
    name="spaces-private-acl",
    description="Every Spaces bucket sets a private ACL.",
    validate=_private_acl,
)

production_versioning = ResourceValidationPolicy(
    name="spaces-production-versioning",
    description="Production Spaces buckets are versioned.",
    validate=_production_versioning,
)

production_protect = ResourceValidationPolicy(
    name="spaces-production-protect",
    description="Production Spaces buckets are protected from deletion.",
    validate=_production_protect,
)

POLICIES = [private_acl, production_versioning, production_protect]
