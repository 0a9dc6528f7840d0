"""The policy pack as the Pulumi CLI runs it: `pulumi preview --policy-pack policy`.

PolicyPack(...) starts the analyzer's gRPC server and never returns, so nothing else
belongs here: the policies live in importable modules (policy/pack.py).
"""

import sys
from pathlib import Path

# The CLI runs `python policy/`, which puts only this directory on sys.path; the policies
# import each other as the `policy` package, the way the tests import them.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import PolicyPack

from policy.pack import ENFORCEMENT, PACK_NAME, POLICIES

PolicyPack(name=PACK_NAME, enforcement_level=ENFORCEMENT, policies=POLICIES)
