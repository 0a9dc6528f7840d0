"""What a container image reference must be for the program to run it: well formed, and
pinned to one build. The one rule the stack settings (marketplace:images) and the policy
pack (k8s-pinned-images) apply, so an image the settings accept is one the pack accepts at
deploy, and the other way round.

Standard library only: the policy pack imports this module from its own virtualenv, which
has no cloud SDKs.
"""

from __future__ import annotations

import re

# distribution/reference (reference.go): an optional registry host (any case, optional
# port), then lowercase path components joined by '.', '_', '__' or dashes; at most 255
# characters (NameTotalLengthMax); a tag of 1..128 word characters, dots and dashes, not
# starting with either; a digest of an algorithm and its hex.
_NAME = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?/)?"
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*",
    re.ASCII,
)
_NAME_MAX = 255
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", re.ASCII)
_DIGEST = re.compile(r"sha256:[a-f0-9]{64}", re.ASCII)
# A tag that names one build: a full x.y.z release (v1.33.2, 2026.11.3), or a commit id or
# build number (sha-3f9c2ab). "7", "1.27-alpine" or "stable" move to each new build.
_RELEASE = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+", re.ASCII)
_BUILD_ID = re.compile(r"(?:^|[^0-9a-zA-Z])[0-9a-f]{7,64}(?:$|[^0-9a-zA-Z])", re.ASCII)
_EXAMPLE = "registry.example.com/catalog-web"


def image_problem(reference: str) -> str | None:
    """Why `reference` is not an image pinned to one build, or None; the reason reads after
    the quoted reference ("'nginx' has no tag or digest, ...")."""
    name, _, digest = reference.partition("@")
    last = name.rsplit("/", 1)[-1]
    repository, tag = name.rsplit(":", 1) if ":" in last else (name, "")
    well_formed = len(repository) <= _NAME_MAX and _NAME.fullmatch(repository)
    example = repository if well_formed else _EXAMPLE
    if not well_formed or (tag and not _TAG.fullmatch(tag)):
        return f"is not an image reference such as {example}:1.4.2"
    if digest and not _DIGEST.fullmatch(digest):
        return "has a malformed digest: expected @sha256: and 64 lowercase hex digits"
    if tag.lower() == "latest":
        return f"uses the moving tag 'latest': pin a release tag ({example}:1.4.2) or a digest"
    if digest:
        return None
    if not tag:
        return (
            "has no tag or digest, so every node may pull a different image: "
            f"pin a release tag ({example}:1.4.2) or a digest ({example}@sha256:<digest>)"
        )
    if _RELEASE.search(tag) or _BUILD_ID.search(tag):
        return None
    return f"uses the tag {tag!r}, which can move: pin a full x.y.z release tag ({example}:1.4.2), a build id or a digest"
