"""The prerequisites the operator tools check before they start, each named plainly."""

from __future__ import annotations

from ops.live.prereq import cli_problem, collect, credentials_problem, packages_problem, python_problem


def test_python_older_than_3_11_is_named_with_the_fix():
    assert python_problem((3, 11, 0)) is None and python_problem((3, 13, 1)) is None
    assert python_problem((3, 10, 12)) == (
        "Python 3.11 or newer is needed, this is 3.10.12: run `make plan PYTHON=python3.11`, which builds ./venv with it"
    )


def test_missing_packages_point_at_the_virtualenv():
    assert packages_problem(("json",)) is None
    problem = packages_problem(("pulumi", "yaml"), find=lambda name: None if name == "pulumi" else object())
    assert problem is not None and problem.startswith("the project's Python packages are missing (pulumi; this is ")
    assert problem.endswith("run `make plan` (it builds ./venv), then `venv/bin/python -m ops ...`")


def test_the_cli_and_each_credential():
    assert cli_problem(lambda name: "/usr/bin/pulumi") is None
    assert (
        cli_problem(lambda name: None) == "the pulumi CLI is not installed or not on PATH (https://www.pulumi.com/docs/install/)"
    )
    groups = (("A", "A_FILE"), ("B",), ("C",))
    assert credentials_problem(groups, {"A_FILE": "x", "B": "y", "C": "z"}) is None
    # Empty counts as missing, and only names are printed.
    assert (
        credentials_problem(groups, {"A": "", "B": "secret-value"})
        == "missing credentials: set A or A_FILE, C in the environment"
    )
    assert collect(None, "one", None, "two") == ["one", "two"]
