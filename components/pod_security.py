"""How a pod of ours runs when it needs nothing of the node: as an unprivileged user, on a
read-only root file system, with no capabilities, no privilege escalation and the runtime's
default seccomp profile; what Pod Security's `restricted` level asks
(kubernetes.io/docs/concepts/security/pod-security-standards), and more."""

from __future__ import annotations

from typing import Any

import pulumi_kubernetes as kubernetes

core = kubernetes.core.v1

RUN_AS = 10001  # above 10000: no clash with a user of the node


def _identity() -> dict[str, Any]:
    """Who the processes run as, on the pod and again on each container (where a
    container's own value would win over the pod's)."""
    return {
        "run_as_non_root": True,
        "run_as_user": RUN_AS,
        "run_as_group": RUN_AS,
        "seccomp_profile": core.SeccompProfileArgs(type="RuntimeDefault"),
    }


def hardened_pod() -> core.PodSecurityContextArgs:
    # Group owner of mounted volumes, so a Secret mounted with mode 0400 is readable.
    return core.PodSecurityContextArgs(**_identity(), fs_group=RUN_AS)


def hardened_container() -> core.SecurityContextArgs:
    return core.SecurityContextArgs(
        **_identity(),
        read_only_root_filesystem=True,
        allow_privilege_escalation=False,
        privileged=False,
        capabilities=core.CapabilitiesArgs(drop=["ALL"]),
    )
