"""Log retention in the stack's OpenSearch: the Index State Management (ISM) policy that
deletes daily log indices after the stack's retention, and the script that applies it.

DigitalOcean's API and the Pulumi provider set no retention on an OpenSearch cluster (their
ism_history_* settings cover ISM's own audit history only), so the policy goes through
OpenSearch's REST API. The program cannot reach the store itself (its firewall admits the
stack's clusters only), so a Job on the hub cluster runs this file, unchanged, with the
policy the program rendered: the standard library only, nothing of the project imported.

OpenSearch refuses to overwrite a policy without its current sequence number and primary
term (PUT _plugins/_ism/policies/<id>?if_seq_no=&if_primary_term=), and indices keep the
policy version they started with until told otherwise (change_policy); the script does both,
so it can run again after every change.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import sys
import urllib.error
import urllib.request
from typing import Any

POLICY_ID = "marketplace-logs-retention"
# What every log index's name starts with (components/logs.py names fluent-bit's indices
# with it): logs-containers-YYYY.MM.DD and logs-events-YYYY.MM.DD.
INDEX_PREFIX = "logs-"
INDEX_PATTERN = f"{INDEX_PREFIX}*"


def retention_policy(days: int) -> dict[str, Any]:
    """Indices stay searchable for `days`, then are deleted; new indices get the policy
    through its ISM template."""
    return {
        "policy": {
            "description": f"Marketplace logs: daily indices are deleted after {days} days",
            "default_state": "hot",
            "states": [
                {
                    "name": "hot",
                    "actions": [],
                    "transitions": [{"state_name": "delete", "conditions": {"min_index_age": f"{days}d"}}],
                },
                {"name": "delete", "actions": [{"delete": {}}], "transitions": []},
            ],
            "ism_template": [{"index_patterns": [INDEX_PATTERN], "priority": 100}],
        }
    }


class Store:
    def __init__(self, url: str, user: str, password: str, context: ssl.SSLContext | None) -> None:
        self.url = url.rstrip("/")
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.context = context

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(
            self.url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": self.auth, "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, context=self.context, timeout=30) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")


def apply(store: Store, policy: dict[str, Any], policy_id: str = POLICY_ID) -> list[str]:
    """Create or update the policy, then put every log index under its current version.
    Returns what was done, one line each; raises on a refusal."""
    done = []
    status, current = store.call("GET", f"/_plugins/_ism/policies/{policy_id}")
    if status == 404:
        path = f"/_plugins/_ism/policies/{policy_id}"
    elif status == 200:
        path = f"/_plugins/_ism/policies/{policy_id}?if_seq_no={current['_seq_no']}&if_primary_term={current['_primary_term']}"
    else:
        raise RuntimeError(f"reading policy {policy_id}: HTTP {status} {current}")
    status, answer = store.call("PUT", path, policy)
    if status not in (200, 201):
        raise RuntimeError(f"writing policy {policy_id}: HTTP {status} {answer}")
    done.append(f"policy {policy_id} {'created' if path.endswith(policy_id) else 'updated'}")
    # Indices made before the policy existed, then indices on an older version of it.
    for action in ("add", "change_policy"):
        status, answer = store.call("POST", f"/_plugins/_ism/{action}/{INDEX_PATTERN}", {"policy_id": policy_id})
        if status not in (200, 404):
            raise RuntimeError(f"{action} on {INDEX_PATTERN}: HTTP {status} {answer}")
        done.append(f"{action}: {answer.get('updated_indices', 0)} index(es)")
    return done


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read().strip()


def main(environ: dict[str, str]) -> int:
    """Credentials come as files (a mounted Secret), never as environment variables."""
    context = ssl.create_default_context(cafile=environ["OPENSEARCH_CA_FILE"])
    credentials = environ["OPENSEARCH_CREDENTIALS_DIR"]
    store = Store(environ["OPENSEARCH_URL"], _read(f"{credentials}/username"), _read(f"{credentials}/password"), context)
    with open(environ["POLICY_FILE"], encoding="utf-8") as handle:
        policy = json.load(handle)
    for line in apply(store, policy):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(dict(os.environ)))
