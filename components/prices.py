"""List prices of what the program declares (data/prices.yaml, with its sources and the day
they were read): one cached read for the stack settings (node sizes and their capacity),
the cost review (`ops plan`, `ops diff`) and the policy pack's dev budget.

Standard library and PyYAML only: the policy pack imports this module from its own
virtualenv, which has no cloud SDKs.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

PRICES_FILE = Path(__file__).resolve().parent.parent / "data" / "prices.yaml"
# libyaml's parser where PyYAML was built with it (its wheels are), else the pure-Python one.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def prices(path: Path = PRICES_FILE) -> dict[str, Any]:
    """The price table; shared by every caller, so nobody may change it."""
    with path.open(encoding="utf-8") as handle:
        table = yaml.load(handle, Loader=_LOADER)
    if not isinstance(table, dict):
        raise ValueError(f"{path.name} is not a mapping of price sections")
    return table
