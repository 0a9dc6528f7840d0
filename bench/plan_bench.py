"""Benchmark of the offline plan: time and peak memory per stack, growth with regions,
against the bare import time of the SDKs measured in the same run.

Every measurement is a fresh Python process (what an operator pays for `ops plan`),
repeated, reported as the median. Run: `make bench` (or `venv/bin/python bench/plan_bench.py`).
Prints a Markdown table for the README.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The SDK modules the program uses. pulumi_kubernetes loads its API groups lazily, so the
# floor names the groups the program declares objects of; importing only the package would
# leave a third of the SDK import out of the floor and in the "plan".
SDKS = (
    "import pulumi, pulumi_digitalocean, pulumi_cloudflare, pulumi_tls, pulumi_kubernetes; "
    "import pulumi_kubernetes.core.v1, pulumi_kubernetes.apps.v1, pulumi_kubernetes.autoscaling.v2, "
    "pulumi_kubernetes.policy.v1, pulumi_kubernetes.networking.v1, pulumi_kubernetes.meta.v1, "
    "pulumi_kubernetes.helm.v3, pulumi_kubernetes.helm.v4, pulumi_kubernetes.apiextensions"
)

# Runs inside a child: import the SDKs, then plan a stack with N synthetic regions, and
# report both times and the peak memory. Synthetic regions copy a real one's data under
# a new slug and address slot, so the program under test is unchanged.
_SYNTHETIC = """
import json, resource, sys, time, dataclasses
t0 = time.perf_counter()
{sdks}
sys.path.insert(0, {root!r})
import components.regions as regions
from offline.engine import run_plan
t1 = time.perf_counter()
count = int(sys.argv[1])
template = regions.REGIONS["nyc3"]
used = {{r.slot for r in regions.REGIONS.values()}}
free = [slot for slot in range(64) if slot not in used]
names = []
for index in range(count):
    slug = f"syn{{index:02d}}"
    regions.REGIONS[slug] = dataclasses.replace(template, slug=slug, slot=free[index])
    names.append(slug)
plan = run_plan("staging", overrides={{"marketplace:regions": names}})
t2 = time.perf_counter()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"import": t1 - t0, "plan": t2 - t1, "resources": len(plan.resources), "peak_kib": peak}}))
"""


def _run(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _median(values: list[float]) -> float:
    return statistics.median(values)


def import_floor(repeat: int) -> float:
    # Left with os._exit, as `python -m ops` leaves (ops/__main__.py): tearing down the
    # SDKs' module graph at exit takes over a second, and neither side should count it.
    script = f"{SDKS}; import os; os._exit(0)"
    return _median([_run([sys.executable, "-c", script]) for _ in range(repeat)])


def stack_plan(stack: str, repeat: int) -> float:
    return _median([_run([sys.executable, "-m", "ops", "plan", "--stack", stack, "--json"]) for _ in range(repeat)])


def synthetic(count: int, repeat: int) -> dict[str, float]:
    script = _SYNTHETIC.format(sdks=SDKS, root=str(ROOT))
    samples = []
    for _ in range(repeat):
        result = subprocess.run([sys.executable, "-c", script, str(count)], cwd=ROOT, check=True, capture_output=True, text=True)
        samples.append(json.loads(result.stdout.strip().splitlines()[-1]))
    return {key: _median([s[key] for s in samples]) for key in samples[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--stacks", nargs="*", default=["dev", "staging", "production", "dev-alice"])
    parser.add_argument("--regions", nargs="*", type=int, default=[1, 5, 20, 50])
    args = parser.parse_args()

    floor = import_floor(args.repeat)
    print(f"Median of {args.repeat} fresh processes each; Python {sys.version.split()[0]}.\n")
    print("| measurement | seconds | vs. SDK import |")
    print("|---|---:|---:|")
    print(f"| bare import of the SDKs | {floor:.2f} | 1.00x |")
    for stack in args.stacks:
        seconds = stack_plan(stack, args.repeat)
        print(f"| `ops plan --stack {stack} --json` | {seconds:.2f} | {seconds / floor:.2f}x |")

    print("\n| synthetic regions | resources | plan time after imports (s) | peak memory (MiB) |")
    print("|---:|---:|---:|---:|")
    results = {}
    for count in args.regions:
        results[count] = synthetic(count, args.repeat)
        r = results[count]
        print(f"| {count} | {int(r['resources'])} | {r['plan']:.3f} | {r['peak_kib'] / 1024:.0f} |")
    if 5 in results and 50 in results:
        growth = results[50]["plan"] / results[5]["plan"]
        print(f"\n50 regions cost {growth:.1f}x the plan time of 5 (linear would be 10x; target at most 11x).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
