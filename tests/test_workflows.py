"""The GitHub Actions workflows: actionlint (with shellcheck) finds nothing, and the
properties docs/delivery.md promises hold: least privilege, no pull-request text in a
script, credentials only in environments that only main may use (read-only ones for
pull requests), the zone's settings deployed before any stack that needs them, a reviewed
production deploy, never two deploys of one stack. Pins, locks and zizmor:
tests/test_supply_chain.py."""

from __future__ import annotations

import re
import shutil
import subprocess
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS_DIR = ROOT / ".github" / "workflows"
WORKFLOW_FILES = sorted(WORKFLOWS_DIR.glob("*.yml")) + sorted(WORKFLOWS_DIR.glob("*.yaml"))
DOC = ROOT / "docs" / "delivery.md"

EXPECTED_WORKFLOWS = {
    "pull-request.yml",
    "offline-plan.yml",
    "offline-plan-comment.yml",
    "deploy.yml",
    "production-monitor.yml",
    "reap-dev-stacks.yml",
}
# Every write permission any job holds, and why: (workflow, job, scope).
WRITE_GRANTS = {
    ("pull-request.yml", "preview", "pull-requests"),  # pulumi/actions comments the preview
    ("offline-plan-comment.yml", "comment", "pull-requests"),  # the offline plan comment
    ("production-monitor.yml", "report", "issues"),  # the alert issue
}
# Text a pull request's author controls. In a `run:` script it would be shell code.
UNTRUSTED = re.compile(
    r"github\.event\.(issue\.(title|body)"
    r"|pull_request\.(title|body|head\.(ref|label|repo\.default_branch))"
    r"|(comment|review|review_comment)\.body|pages|commits|head_commit"
    r"|workflow_run\.(head_branch|head_commit|display_title))"
    r"|github\.head_ref"
)
# Each environment, and the jobs that use its credentials (docs/delivery.md says what each
# holds). Only `main` may deploy from any of them but `preview`, which pull requests use.
ENVIRONMENTS = {
    "preview": {("pull-request.yml", "preview")},
    "zone": {("deploy.yml", "zone")},
    "staging": {("deploy.yml", "staging")},
    "production": {("deploy.yml", "production")},
    "production-monitor": {("production-monitor.yml", "smoke"), ("production-monitor.yml", "drift")},
    "dev-stacks": {("reap-dev-stacks.yml", "reap")},
}
ON_MAIN = "github.ref == 'refs/heads/main'"
LOCKED_VENV = "$/.github/actions/locked-venv"


def load(path: Path) -> dict[str, Any]:
    document: dict[Any, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as the boolean true.
    if True in document:
        document["on"] = document.pop(True)
    return document


WORKFLOWS = {path.name: load(path) for path in WORKFLOW_FILES}


def jobs(name: str) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = WORKFLOWS[name]["jobs"]
    return result


def all_jobs() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for workflow in WORKFLOWS:
        for job_name, job in jobs(workflow).items():
            yield workflow, job_name, job


def all_steps() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for workflow, job_name, job in all_jobs():
        for step in job.get("steps", []):
            yield workflow, job_name, step


def holds_secrets(job: dict[str, Any]) -> bool:
    return any("secrets." in text for _, text in strings_with_path(job))


def credential_jobs() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for workflow, job_name, job in all_jobs():
        if holds_secrets(job):
            yield workflow, job_name, job


def pulumi_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for step in job.get("steps", []) if str(step.get("uses", "")).startswith("pulumi/actions@")]


def strings_with_path(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from strings_with_path(value, (*path, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from strings_with_path(value, (*path, str(index)))
    elif isinstance(node, str):
        yield path, node


def tool(name: str) -> str:
    """A binary requirements-dev.txt installs next to this interpreter."""
    candidate = Path(sysconfig.get_path("scripts")) / name
    found = str(candidate) if candidate.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -r requirements-dev.txt")
    return found


def actionlint(cwd: Path, *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            tool("actionlint"),
            "-oneline",
            "-no-color",
            "-shellcheck",
            tool("shellcheck"),
            "-pyflakes=",
            *(str(f) for f in files),
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# ------------------------------------------------------------------------- actionlint


def test_the_workflows_are_the_expected_ones() -> None:
    assert set(WORKFLOWS) == EXPECTED_WORKFLOWS


def test_actionlint_finds_nothing_in_any_workflow() -> None:
    result = actionlint(ROOT, *WORKFLOW_FILES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_fails_on_a_broken_workflow(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    broken = workflows / "broken.yml"
    broken.write_text(
        "on: pull_request\n"
        "permissions: {}\n"
        "jobs:\n"
        "  greet:\n"
        "    runs-on: ubuntu-24.04\n"
        "    needs: no-such-job\n"
        "    steps:\n"
        '      - run: echo "${{ github.event.pull_request.title }}"\n'
        "      - run: echo $UNQUOTED\n"
        "      - uses: actions/checkout@v7\n"
        "        with:\n"
        "          no-such-input: true\n",
        encoding="utf-8",
    )

    result = actionlint(tmp_path, broken)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "github.event.pull_request.title" in result.stdout  # script injection
    assert "no-such-job" in result.stdout  # a broken `needs`
    assert "no-such-input" in result.stdout  # action inputs are known
    assert "SC2086" in result.stdout  # shellcheck runs on the scripts


# ------------------------------------------------------------------ least privilege


@pytest.mark.parametrize("workflow", sorted(EXPECTED_WORKFLOWS))
def test_top_level_permissions_are_minimal(workflow: str) -> None:
    assert WORKFLOWS[workflow].get("permissions") in ({}, {"contents": "read"})


def test_every_job_states_its_permissions_and_only_the_known_ones_write() -> None:
    writes = set()
    for workflow, job_name, job in all_jobs():
        permissions = job.get("permissions")
        assert isinstance(permissions, dict), f"{workflow}:{job_name} must list its permissions"
        for scope, level in permissions.items():
            assert level in ("read", "write", "none"), f"{workflow}:{job_name}: {scope}: {level}"
            if level == "write":
                writes.add((workflow, job_name, scope))
    assert writes == WRITE_GRANTS


def test_no_workflow_runs_pull_request_code_with_a_write_token() -> None:
    for workflow, document in WORKFLOWS.items():
        triggers = document["on"]
        assert "pull_request_target" not in triggers, workflow
    comment_job = jobs("offline-plan-comment.yml")["comment"]
    for step in comment_job["steps"]:
        assert "run" not in step  # nothing from the artifact reaches a shell
        assert not str(step.get("uses", "")).startswith("actions/checkout@")


def test_checkouts_keep_no_token_on_disk() -> None:
    checkouts = [
        (workflow, job, step) for workflow, job, step in all_steps() if str(step.get("uses")).startswith("actions/checkout@")
    ]
    assert checkouts
    for workflow, job, step in checkouts:
        assert step.get("with", {}).get("persist-credentials") is False, f"{workflow}:{job}"


# --------------------------------------------------------------------- untrusted text


def test_no_expression_is_interpolated_into_a_script() -> None:
    """All values reach `run:` and github-script code through `env:`, so nothing a
    pull request carries can become shell or JavaScript code."""
    for workflow, job, step in all_steps():
        assert "${{" not in step.get("run", ""), f"{workflow}:{job}: {step.get('name', step['run'])}"
        assert "${{" not in step.get("with", {}).get("script", ""), f"{workflow}:{job}"


def test_pull_request_text_appears_only_in_env_values() -> None:
    for workflow, document in WORKFLOWS.items():
        for path, text in strings_with_path(document):
            if UNTRUSTED.search(text):
                assert len(path) >= 2 and path[-2] == "env", f"{workflow}: {'.'.join(path)}: {text}"


@pytest.mark.parametrize(
    ("expression", "untrusted"),
    [
        ("github.event.pull_request.title", True),
        ("github.event.pull_request.body", True),
        ("github.event.pull_request.head.ref", True),
        ("github.head_ref", True),
        ("github.event.workflow_run.head_branch", True),
        ("github.event.pull_request.number", False),
        ("github.event.pull_request.head.sha", False),
        ("github.event.pull_request.head.repo.full_name", False),
    ],
)
def test_the_untrusted_pattern(expression: str, untrusted: bool) -> None:
    assert bool(UNTRUSTED.search("${{ " + expression + " }}")) is untrusted


def test_secrets_live_in_environments_and_each_job_uses_its_own() -> None:
    """No job reads a repository secret: a branch's own workflow could. Each credential
    job names its environment, whose deployment-branch rule GitHub checks before it hands
    over a secret."""
    used: dict[str, set[tuple[str, str]]] = {}
    for workflow, job_name, job in credential_jobs():
        environment = job.get("environment")
        assert isinstance(environment, str), f"{workflow}:{job_name} reads secrets without an environment"
        used.setdefault(environment, set()).add((workflow, job_name))
    assert used == ENVIRONMENTS


def test_dispatchable_and_scheduled_credential_jobs_run_on_main_only() -> None:
    """workflow_dispatch runs the chosen branch's code; the environments refuse any branch
    but main, and the job says so itself, so a dispatch elsewhere is skipped, not failed."""
    for workflow, job_name, job in credential_jobs():
        triggers = WORKFLOWS[workflow]["on"]
        if "workflow_dispatch" in triggers or "schedule" in triggers or "push" in triggers:
            assert ON_MAIN in job.get("if", ""), f"{workflow}:{job_name}"


def test_the_pull_request_preview_uses_the_read_only_environment_and_changes_nothing() -> None:
    preview = jobs("pull-request.yml")["preview"]
    assert preview["environment"] == "preview"
    for step in pulumi_steps(preview):
        assert step["with"]["command"] == "preview"
    doc = DOC.read_text(encoding="utf-8")
    row = next(line for line in doc.splitlines() if line.startswith("| `preview` |"))
    assert "read-only" in row


def test_the_docs_say_which_environment_holds_which_credential() -> None:
    """docs/delivery.md's environment table lists, per environment, every secret its jobs
    read, and no other."""
    doc = DOC.read_text(encoding="utf-8")
    documented: dict[str, set[str]] = {}
    for line in doc.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and re.fullmatch(r"`[a-z-]+`", cells[0]) and cells[0].strip("`") in ENVIRONMENTS:
            documented[cells[0].strip("`")] = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[2]))
    read: dict[str, set[str]] = {}
    for _, _, job in credential_jobs():
        names = {name for _, text in strings_with_path(job) for name in re.findall(r"secrets\.([A-Z0-9_]+)", text)}
        read.setdefault(job["environment"], set()).update(names)
    assert documented == read


def test_secrets_reach_pull_request_jobs_only_from_this_repository() -> None:
    for workflow in ("pull-request.yml", "offline-plan.yml"):
        for job_name, job in jobs(workflow).items():
            uses_secrets = any("secrets." in text for _, text in strings_with_path(job))
            if uses_secrets:
                condition = job.get("if", "")
                assert "github.event.pull_request.head.repo.full_name == github.repository" in condition, job_name
    offline = WORKFLOWS["offline-plan.yml"]
    assert not any("secrets." in text for _, text in strings_with_path(offline))


# ------------------------------------------------------------------------- pinning


def test_the_pulumi_cli_is_the_version_of_the_pinned_sdk() -> None:
    requirements = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    pins = re.findall(r"^pulumi==(\S+)$", requirements, re.MULTILINE)
    assert len(pins) == 1 and re.fullmatch(r"\d+\.\d+\.\d+", pins[0]), pins
    for workflow, job_name, job in all_jobs():
        for step in pulumi_steps(job):
            assert step["with"]["pulumi-version"] == "${{ steps.pulumi-pin.outputs.version }}", job_name
            pin_steps = [s for s in job["steps"] if s.get("id") == "pulumi-pin"]
            assert len(pin_steps) == 1, f"{workflow}:{job_name}"
            assert "sed -n 's/^pulumi==//p' requirements.txt" in pin_steps[0]["run"]


def test_python_is_3_11_and_installed_from_the_project_files() -> None:
    for workflow, job, step in all_steps():
        if str(step.get("uses", "")).startswith("actions/setup-python@"):
            assert step["with"]["python-version"] == "3.11", f"{workflow}:{job}"
        assert "pip install" not in step.get("run", "") or "-r requirements" in step["run"]


def test_credential_jobs_install_python_packages_only_from_the_hash_pinned_locks() -> None:
    """`make deps` resolves requirements*.txt afresh; a job holding tokens installs only
    the reviewed, hash-checked lock (the composite action), and reads no pip cache."""
    for workflow, job_name, job in credential_jobs():
        steps = job["steps"]
        runs = "\n".join(step.get("run", "") for step in steps)
        assert "make" not in runs.split() and "pip install" not in runs, f"{workflow}:{job_name}"
        locked = [step for step in steps if step.get("uses") == LOCKED_VENV]
        assert len(locked) == 1, f"{workflow}:{job_name}"
        policy_pack = any(s["with"].get("policyPacks") for s in pulumi_steps(job))
        assert (locked[0].get("with", {}).get("policy-pack") == "true") == policy_pack, f"{workflow}:{job_name}"
        for step in steps:
            if str(step.get("uses", "")).startswith("actions/setup-python@"):
                assert "cache" not in step.get("with", {}), f"{workflow}:{job_name}"
    action = load(ROOT / ".github" / "actions" / "locked-venv" / "action.yml")
    scripts = [step["run"] for step in action["runs"]["steps"]]
    assert [line.split(" -r ")[-1] for script in scripts for line in script.splitlines() if "pip install" in line] == [
        "requirements.lock",
        "policy/requirements.lock",
    ]
    for script in scripts:
        for line in script.splitlines():
            if "pip install" in line:
                assert "--require-hashes" in line and "--no-deps" in line and "--only-binary :all:" in line


# ---------------------------------------------------------------------------- flows


def test_every_pull_request_runs_the_whole_test_suite() -> None:
    assert "pull_request" in WORKFLOWS["pull-request.yml"]["on"]
    runs = [step.get("run") for step in jobs("pull-request.yml")["test"]["steps"]]
    assert "make test" in runs


def test_same_repository_pull_requests_get_a_real_preview_with_the_policy_pack() -> None:
    preview = jobs("pull-request.yml")["preview"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in preview["if"]
    assert preview["strategy"]["matrix"]["stack"] == ["zone", "staging", "production"]
    (step,) = pulumi_steps(preview)
    assert step["with"]["command"] == "preview"
    assert step["with"]["stack-name"] == "${{ matrix.stack }}"
    assert step["with"]["comment-on-pr"] is True
    assert step["with"]["policyPacks"] == "policy"
    assert step["with"]["cloud-url"] == "${{ vars.PULUMI_BACKEND_URL }}"


def test_the_offline_plan_comment_is_computed_without_secrets_and_posted_once() -> None:
    plan_steps = jobs("offline-plan.yml")["plan"]["steps"]
    script = "\n".join(step.get("run", "") for step in plan_steps)
    for stack in ("staging", "production"):
        assert stack in script
    assert "ops diff --stack" in script and "--markdown" in script
    assert any(str(step.get("uses", "")).startswith("actions/upload-artifact@") for step in plan_steps)

    comment = WORKFLOWS["offline-plan-comment.yml"]
    assert comment["on"]["workflow_run"]["workflows"] == [WORKFLOWS["offline-plan.yml"]["name"]]
    download, post = jobs("offline-plan-comment.yml")["comment"]["steps"]
    assert download["with"]["run-id"] == "${{ github.event.workflow_run.id }}"
    code = post["with"]["script"]
    assert "<!-- marketplace:offline-plan -->" in code  # the hidden marker that finds the comment
    assert "updateComment" in code and "createComment" in code
    assert "pr.head.sha === run.head_sha" in code  # the number in the artifact is checked


def test_merge_to_main_deploys_the_zone_then_staging_smokes_it_then_production_behind_review() -> None:
    assert WORKFLOWS["deploy.yml"]["on"]["push"]["branches"] == ["main"]
    zone, staging, production = (jobs("deploy.yml")[name] for name in ("zone", "staging", "production"))
    assert zone["needs"] == "test"
    assert staging["needs"] == "zone"
    assert production["needs"] == "staging"
    assert production["environment"] == "production"
    for job, stack in ((staging, "staging"), (production, "production")):
        (step,) = pulumi_steps(job)
        assert (step["with"]["command"], step["with"]["stack-name"]) == ("up", stack)
        assert step["with"]["policyPacks"] == "policy"
        runs = [s.get("run", "") for s in job["steps"]]
        smoke = f"venv/bin/python -m ops smoke --stack {stack}"
        assert smoke in runs
        assert runs.index(smoke) > job["steps"].index(step)  # smoke after the update


def test_only_the_production_deploy_uses_the_production_environment() -> None:
    # Its required reviewers would hold any other job (a scheduled monitor for ever).
    users = [(w, j) for w, j, job in all_jobs() if job.get("environment") == "production"]
    assert users == [("deploy.yml", "production")]


def up_order(workflow: str) -> list[str]:
    """The stacks a workflow's jobs `pulumi up`, in the order `needs` runs them."""
    graph = jobs(workflow)
    order: list[str] = []

    def depth(name: str) -> int:
        needs = graph[name].get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        return 1 + max((depth(n) for n in needs), default=0)

    for name in sorted(graph, key=depth):
        order += [step["with"]["stack-name"] for step in pulumi_steps(graph[name]) if step["with"].get("command") == "up"]
    return order


def test_a_fresh_zone_deploys_end_to_end_in_the_pipelines_order() -> None:
    """On a new zone nothing has switched on authenticated origin pulls, so the gateways'
    required client certificate is never presented and staging's smoke tests fail. The
    first stack the pipeline deploys is the one that holds the zone's settings; the
    stacks after it hold none of them (and so cannot undo or fight them)."""
    from tests.conftest import plan_of

    order = up_order("deploy.yml")
    assert order == ["zone", "staging", "production"]

    def zone_settings(stack: str) -> dict[str, Any]:
        return {
            r.inputs["settingId"]: r.inputs["value"]
            for r in plan_of(stack).resources
            if r.type == "cloudflare:index/zoneSetting:ZoneSetting"
        }

    assert zone_settings(order[0]) == {
        "ssl": "strict",
        "tls_client_auth": "on",
        "always_use_https": "on",
        "min_tls_version": "1.2",
    }
    for later in order[1:]:
        assert zone_settings(later) == {}, later
    # Each stack is smoked once its hostname answers over valid TLS: a new hostname's edge
    # certificate is issued minutes after `pulumi up` returns.
    action = yaml.safe_load((ROOT / ".github" / "actions" / "wait-for-tls" / "action.yml").read_text(encoding="utf-8"))
    (waiting,) = action["runs"]["steps"]
    assert "pulumi stack output url" in waiting["run"] and "curl --silent --fail" in waiting["run"]
    assert "exit 1" in waiting["run"]
    for stack in order[1:]:
        steps = jobs("deploy.yml")[stack]["steps"]
        runs = [step.get("run", "") for step in steps]
        wait = next(index for index, step in enumerate(steps) if step.get("uses") == "$/.github/actions/wait-for-tls")
        assert steps[wait]["with"] == {"stack": stack}
        assert wait < runs.index(f"venv/bin/python -m ops smoke --stack {stack}")


def test_up_order_follows_needs_not_the_file() -> None:
    assert up_order("reap-dev-stacks.yml") == []
    WORKFLOWS["_order.yml"] = {
        "jobs": {
            "late": {"needs": ["early"], "steps": [{"uses": "pulumi/actions@x", "with": {"command": "up", "stack-name": "b"}}]},
            "early": {"steps": [{"uses": "pulumi/actions@x", "with": {"command": "up", "stack-name": "a"}}]},
        }
    }
    try:
        assert up_order("_order.yml") == ["a", "b"]
    finally:
        del WORKFLOWS["_order.yml"]


def test_no_two_deploys_of_one_stack_overlap() -> None:
    groups = {}
    for workflow, job_name, job in all_jobs():
        changes_a_stack = any(step["with"].get("command") in ("up", "destroy") for step in pulumi_steps(job)) or any(
            "ops dev" in step.get("run", "") for step in job.get("steps", [])
        )
        if not changes_a_stack:
            continue
        concurrency = job.get("concurrency")
        assert isinstance(concurrency, dict), f"{workflow}:{job_name} needs a concurrency group"
        assert concurrency["cancel-in-progress"] is False, f"{workflow}:{job_name}"
        assert "${{" not in concurrency["group"]  # one fixed group per stack, not per run
        groups[(workflow, job_name)] = concurrency["group"]
    assert groups == {
        ("deploy.yml", "zone"): "pulumi-zone",
        ("deploy.yml", "staging"): "pulumi-staging",
        ("deploy.yml", "production"): "pulumi-production",
        ("reap-dev-stacks.yml", "reap"): "reap-dev-stacks",
    }


def test_production_is_monitored_and_checked_for_drift_on_a_schedule() -> None:
    monitor = WORKFLOWS["production-monitor.yml"]
    crons = [entry["cron"] for entry in monitor["on"]["schedule"]]
    smoke_runs = [step.get("run", "") for step in jobs("production-monitor.yml")["smoke"]["steps"]]
    assert "venv/bin/python -m ops smoke --stack production" in smoke_runs
    drift = jobs("production-monitor.yml")["drift"]
    assert drift["strategy"]["matrix"]["stack"] == ["zone", "production"]
    runs = [step.get("run", "") for step in drift["steps"]]
    # Judged by `ops drift`, which pages on drift but not on the Cloudflare provider's
    # load-balancer noise (terraform-provider-cloudflare#7339), not by --expect-no-changes.
    preview = next(run for run in runs if run.startswith("pulumi preview"))
    assert '--stack "$STACK"' in preview and "--refresh" in preview and "--json" in preview
    assert 'venv/bin/python -m ops drift "$RUNNER_TEMP/preview.json"' in runs
    assert runs.index('venv/bin/python -m ops drift "$RUNNER_TEMP/preview.json"') > runs.index(preview)
    assert all("expect-no-changes" not in step.get("with", {}) for step in pulumi_steps(drift))
    drift_cron = re.search(r"github\.event\.schedule == '([^']+)'", drift["if"])
    assert drift_cron is not None and drift_cron.group(1) in crons


def test_expired_dev_stacks_are_reaped_on_a_schedule() -> None:
    reap = WORKFLOWS["reap-dev-stacks.yml"]
    assert reap["on"]["schedule"]
    script = "\n".join(step.get("run", "") for step in jobs("reap-dev-stacks.yml")["reap"]["steps"])
    assert "args=(reap)" in script and 'venv/bin/python -m ops dev "${args[@]}"' in script


# ----------------------------------------------------------- repository settings


def test_every_secret_and_variable_is_documented() -> None:
    doc = DOC.read_text(encoding="utf-8")
    names = set()
    for document in WORKFLOWS.values():
        for _, text in strings_with_path(document):
            names.update(re.findall(r"\b(?:secrets|vars)\.([A-Z0-9_]+)", text))
    assert names  # the workflows do use some
    missing = sorted(name for name in names if f"`{name}`" not in doc)
    assert not missing, f"not in docs/delivery.md: {missing}"


def test_dependabot_keeps_pip_and_actions_current_after_a_cooldown() -> None:
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text(encoding="utf-8"))
    assert config["version"] == 2
    ecosystems = {(update["package-ecosystem"], update["directory"]) for update in config["updates"]}
    assert ecosystems == {("pip", "/"), ("github-actions", "/")}
    for update in config["updates"]:
        # A week before a release is proposed (zizmor's dependabot-cooldown wants 7).
        assert update["cooldown"]["default-days"] >= 7, update["package-ecosystem"]
        if update["package-ecosystem"] == "github-actions":
            # Semver keys are not supported for actions (Dependabot options reference).
            assert set(update["cooldown"]) == {"default-days"}


def test_platform_owners_review_production_policy_and_workflows() -> None:
    owners: dict[str, list[str]] = {}
    for line in (ROOT / ".github" / "CODEOWNERS").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            pattern, *teams = line.split()
            owners[pattern] = teams
    for path in ("/Pulumi.production.yaml", "/Pulumi.zone.yaml", "/policy/", "/.github/"):
        assert "@marketplace/platform" in owners.get(path, []), path


def test_every_real_preview_and_up_runs_after_the_preflight_on_the_deploy_runner() -> None:
    """The control-plane firewall admits listed addresses only: a job that previews or deploys
    a stack with clusters runs on the runner `vars.DEPLOY_RUNNER` names, and `ops preflight`
    of the same stack runs before pulumi does (with --refresh before a refreshing preview),
    so a runner outside the allow-list or a placeholder fails in seconds."""

    def stack_of(step: dict[str, Any], job: dict[str, Any]) -> list[str]:
        named = step.get("with", {}).get("stack-name") or step.get("env", {}).get("STACK")
        if named == "${{ matrix.stack }}":
            return list(job["strategy"]["matrix"]["stack"])
        if named:
            return [named]
        return [step["run"].split("--stack ")[1].split()[0]]

    checked = []
    for workflow, job_name, job in all_jobs():
        steps = job.get("steps", [])
        for position, step in enumerate(steps):
            action = str(step.get("uses", "")).startswith("pulumi/actions@") and step["with"].get("command") in ("preview", "up")
            script = re.search(r"\bpulumi (preview|up)\b", step.get("run", ""))
            if not (action or script):
                continue
            stacks = stack_of(step, job)
            preflights = [s for s in steps[:position] if "-m ops preflight --stack" in s.get("run", "")]
            assert len(preflights) == 1, f"{workflow}:{job_name} runs pulumi without ops preflight first"
            (preflight,) = preflights
            assert stack_of(preflight, job) == stacks, f"{workflow}:{job_name}"
            refreshes = "--refresh" in step.get("run", "") or step.get("with", {}).get("refresh") is True
            assert ("--refresh" in preflight["run"]) == refreshes, f"{workflow}:{job_name}"
            if set(stacks) - {"zone"}:
                assert job["runs-on"] == "${{ vars.DEPLOY_RUNNER || 'ubuntu-24.04' }}", f"{workflow}:{job_name}"
            checked.append((workflow, job_name))
    assert sorted(checked) == [
        ("deploy.yml", "production"),
        ("deploy.yml", "staging"),
        ("deploy.yml", "zone"),
        ("production-monitor.yml", "drift"),
        ("pull-request.yml", "preview"),
    ]
