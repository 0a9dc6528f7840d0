"""The retention script against a stand-in of OpenSearch's ISM API (plain HTTP on
localhost): it creates the policy, updates it with the sequence number OpenSearch demands,
moves existing indices onto it, and stops on a refusal."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from components.log_retention import INDEX_PATTERN, POLICY_ID, Store, apply, main, retention_policy
from offline.stack_config import ROOT


class FakeIsm:
    """Just enough of _plugins/_ism: one policy slot with optimistic concurrency."""

    def __init__(self, existing: dict[str, Any] | None = None, refuse_put: bool = False) -> None:
        self.policy = existing
        self.seq_no, self.primary_term = (7, 2) if existing else (0, 0)
        self.refuse_put = refuse_put
        self.requests: list[tuple[str, str, Any]] = []

    def handle(self, method: str, path: str, body: Any) -> tuple[int, dict[str, Any]]:
        self.requests.append((method, path, body))
        base = f"/_plugins/_ism/policies/{POLICY_ID}"
        if method == "GET" and path == base:
            if self.policy is None:
                return 404, {"error": {"type": "status_exception"}}
            return 200, {"_id": POLICY_ID, "_seq_no": self.seq_no, "_primary_term": self.primary_term, "policy": self.policy}
        if method == "PUT" and path.startswith(base):
            expected = f"{base}?if_seq_no={self.seq_no}&if_primary_term={self.primary_term}" if self.policy else base
            if self.refuse_put or path != expected:
                return 409, {"error": {"type": "version_conflict_engine_exception"}}
            self.policy, self.seq_no = body["policy"], self.seq_no + 1
            return 201 if expected == base else 200, {"_id": POLICY_ID}
        if method == "POST" and path in (f"/_plugins/_ism/add/{INDEX_PATTERN}", f"/_plugins/_ism/change_policy/{INDEX_PATTERN}"):
            return 200, {"updated_indices": 3, "failures": False}
        return 400, {"error": f"unexpected {method} {path}"}


@pytest.fixture
def serve() -> Iterator[Any]:
    servers = []

    def start(fake: FakeIsm) -> Store:
        class Handler(BaseHTTPRequestHandler):
            def _reply(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                assert self.headers["Authorization"] == "Basic ZG9hZG1pbjpzM2NyM3Q="  # doadmin:s3cr3t
                status, answer = fake.handle(self.command, self.path, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = _reply

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A short poll: shutdown() waits for the loop to look again.
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
        servers.append(server)
        return Store(f"http://127.0.0.1:{server.server_address[1]}", "doadmin", "s3cr3t", None)

    yield start
    for server in servers:
        server.shutdown()


def test_a_new_store_gets_the_policy_and_its_indices_are_put_under_it(serve: Any) -> None:
    fake = FakeIsm()
    done = apply(serve(fake), retention_policy(7))
    assert done == [f"policy {POLICY_ID} created", "add: 3 index(es)", "change_policy: 3 index(es)"]
    stored = fake.policy
    assert stored is not None
    assert stored == retention_policy(7)["policy"]
    assert stored["states"][0]["transitions"][0]["conditions"] == {"min_index_age": "7d"}
    assert stored["ism_template"] == [{"index_patterns": ["logs-*"], "priority": 100}]


def test_a_changed_retention_updates_the_policy_with_its_sequence_number(serve: Any) -> None:
    fake = FakeIsm(existing=retention_policy(30)["policy"])
    done = apply(serve(fake), retention_policy(14))
    assert done[0] == f"policy {POLICY_ID} updated"
    assert ("PUT", f"/_plugins/_ism/policies/{POLICY_ID}?if_seq_no=7&if_primary_term=2", retention_policy(14)) in fake.requests
    assert fake.policy is not None
    assert fake.policy["states"][0]["transitions"][0]["conditions"] == {"min_index_age": "14d"}


def test_a_refusal_stops_the_job_with_what_opensearch_said(serve: Any) -> None:
    with pytest.raises(RuntimeError, match=r"HTTP 409 .*version_conflict"):
        apply(serve(FakeIsm(refuse_put=True)), retention_policy(7))


def test_the_job_reads_its_credentials_from_files(serve: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """main() as the Job runs it: URL and paths from the environment, credentials from the
    mounted Secret's files (any CA file will do for this plain-HTTP stand-in)."""
    fake = FakeIsm()
    url = serve(fake).url
    (tmp_path / "username").write_text("doadmin\n")
    (tmp_path / "password").write_text("s3cr3t\n")
    (tmp_path / "policy.json").write_text(json.dumps(retention_policy(30)))
    environ = {
        "OPENSEARCH_URL": url,
        "OPENSEARCH_CA_FILE": str(ROOT / "data" / "cloudflare-origin-pull-ca.pem"),
        "OPENSEARCH_CREDENTIALS_DIR": str(tmp_path),
        "POLICY_FILE": str(tmp_path / "policy.json"),
    }
    assert main(environ) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"policy {POLICY_ID} created"
    assert fake.policy == retention_policy(30)["policy"]
