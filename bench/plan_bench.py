"""Benchmark of the offline plan: `ops plan` of each stack beside the import floor, measured
side by side in one run, and the plan's growth with regions.

Every sample is a fresh Python process, as an operator runs `ops plan`; the subjects take
turns within each round, so a change in the machine's load reaches all of them alike. Each
sample records wall time and the CPU time (user + system) of the process; the median of the
samples is reported. CPU time moves far less than wall time when other work shares the
machine: judge changes by it there, and quote wall time from a quiet machine.

The floor is a process that imports exactly the modules `ops plan --stack production` ends
with, every one but the project's own (the SDKs, the API groups pulumi_kubernetes loads
lazily, the standard library), and leaves with `os._exit` as `python -m ops` does. It is
measured twice: as Python runs by default, and with the cyclic garbage collector off, as
the engine runs the program (offline/engine.py), the lowest an import can cost.

Run: `make bench` or `make bench ARGS="--repeat 9 --regions"`. Options:
  --repeat N       samples per measurement, median reported (default 5)
  --stacks S ...   stacks to plan (default: dev staging production dev-alice)
  --regions N ...  synthetic region counts for the growth table (default: 1 5 20 50);
                   `--regions` alone skips the table
  --target X       the ratio of production to the floor to stay within (default 1.2);
                   the exit status is 1 when production's median wall time is past it
Progress goes to stderr; the tables (Markdown, for the README) to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
STACKS = ["dev", "staging", "production", "dev-alice"]

# Prints, as JSON, the modules a plan of the stack in argv[1] ends with, the project's own
# left out. pulumi_kubernetes registers its API groups lazily: only those it loaded count.
_MODULES_OF_A_PLAN = """
import contextlib, io, json, os, sys
sys.path.insert(0, os.getcwd())
from ops.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(["plan", "--stack", sys.argv[1], "--json"])
ours = ("__main__", "components", "offline", "ops", "policy")
loaded = [
    name for name, module in list(sys.modules.items())
    if type(module).__name__ != "_LazyModule" and name.split(".")[0] not in ours
]
print(json.dumps({"code": code, "modules": loaded}))
sys.stdout.flush()
os._exit(0)
"""

# Imports the given modules in the order the plan loaded them, touching each so a lazy
# one loads, and leaves as `python -m ops` leaves.
_FLOOR = """
import importlib, json, os, sys, warnings
warnings.simplefilter("ignore")  # typing.io and friends say they are deprecated
{collector}
for name in json.loads(sys.argv[1]):
    try:
        hasattr(importlib.import_module(name), "__all__")
    except Exception:
        pass  # made by its package at run time, not importable by name
os._exit(0)
"""

# Runs inside a child: plan staging with N synthetic regions, and report the plan's time and
# the peak memory. Synthetic regions copy a real one's data under a new slug and address
# slot, so the program under test is unchanged; the address plan keeps room for 16 region
# slots, so the child makes room for 64 (staging's ranges stay inside their parents).
_SYNTHETIC = """
import json, resource, sys, time, dataclasses
sys.path.insert(0, {root!r})
import components.network as network
import components.regions as regions
network.MAX_SLOTS = 64
from offline.engine import run_plan
count = int(sys.argv[1])
template = regions.REGIONS["nyc3"]
used = {{r.slot for r in regions.REGIONS.values()}}
free = [slot for slot in range(64) if slot not in used]
# nyc3 itself stays first: the stack's log store and Grafana live in a real region.
names = ["nyc3"]
for index in range(count - 1):
    slug = f"syn{{index:02d}}"
    regions.REGIONS[slug] = dataclasses.replace(template, slug=slug, slot=free[index])
    names.append(slug)
run_plan("staging", overrides={{"marketplace:regions": ["nyc3"]}})  # the SDKs imported, warm
start = time.perf_counter()
plan = run_plan("staging", overrides={{"marketplace:regions": names}})
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"plan": seconds, "resources": len(plan.resources), "peak_kib": peak}}))
"""


class Sample(NamedTuple):
    wall: float
    cpu: float


def progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def sample(args: list[str]) -> Sample:
    """One run of a fresh process: its wall time and its own CPU time (user + system)."""
    start = time.perf_counter()
    process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"bench: {' '.join(args[:4])} ... failed with status {os.waitstatus_to_exitcode(status)}")
    return Sample(wall, usage.ru_utime + usage.ru_stime)


def modules_of_a_plan(stack: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", _MODULES_OF_A_PLAN, stack], cwd=ROOT, capture_output=True, text=True, check=True
    )
    found = json.loads(result.stdout.strip().splitlines()[-1])
    if found["code"] != 0:
        raise SystemExit(f"bench: `ops plan --stack {stack}` failed")
    modules: list[str] = found["modules"]
    return modules


def subjects(stacks: list[str], modules: list[str]) -> dict[str, list[str]]:
    floor = _FLOOR.format(collector="")
    floor_without_collector = _FLOOR.format(collector="import gc; gc.disable()")
    listed = json.dumps(modules)
    measured = {
        "import floor": [sys.executable, "-c", floor, listed],
        "import floor, collector off": [sys.executable, "-c", floor_without_collector, listed],
    }
    for stack in stacks:
        measured[f"`ops plan --stack {stack} --json`"] = [sys.executable, "-m", "ops", "plan", "--stack", stack, "--json"]
    return measured


def measure(measured: dict[str, list[str]], repeat: int) -> dict[str, Sample]:
    samples: dict[str, list[Sample]] = {name: [] for name in measured}
    for round_ in range(1, repeat + 1):
        for name, args in measured.items():
            taken = sample(args)
            samples[name].append(taken)
            progress(f"round {round_}/{repeat}: {name}: {taken.wall:.2f} s wall, {taken.cpu:.2f} s CPU")
    return {
        name: Sample(statistics.median(s.wall for s in taken), statistics.median(s.cpu for s in taken))
        for name, taken in samples.items()
    }


def synthetic(count: int, repeat: int) -> dict[str, float]:
    script = _SYNTHETIC.format(root=str(ROOT))
    samples = []
    for index in range(1, repeat + 1):
        result = subprocess.run([sys.executable, "-c", script, str(count)], cwd=ROOT, check=True, capture_output=True, text=True)
        samples.append(json.loads(result.stdout.strip().splitlines()[-1]))
        progress(f"{count} synthetic regions, sample {index}/{repeat}: {samples[-1]['plan']:.2f} s")
    return {key: statistics.median(s[key] for s in samples) for key in samples[0]}


def ratio_table(medians: dict[str, Sample]) -> list[str]:
    floor = medians["import floor"]
    lines = ["| measurement | wall (s) | vs. floor | CPU (s) | vs. floor |", "|---|---:|---:|---:|---:|"]
    for name, taken in medians.items():
        lines.append(
            f"| {name} | {taken.wall:.2f} | {taken.wall / floor.wall:.2f}x | {taken.cpu:.2f} | {taken.cpu / floor.cpu:.2f}x |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--stacks", nargs="*", default=STACKS)
    parser.add_argument("--regions", nargs="*", type=int, default=[1, 5, 20, 50])
    parser.add_argument("--target", type=float, default=1.2)
    args = parser.parse_args(argv)

    load_before = os.getloadavg()[0]
    progress("listing the modules a plan of production loads")
    modules = modules_of_a_plan("production")
    progress(f"{len(modules)} modules; {args.repeat} rounds of {2 + len(args.stacks)} processes")
    medians = measure(subjects(args.stacks, modules), args.repeat)
    load_after = os.getloadavg()[0]

    print(
        f"Median of {args.repeat} fresh processes each, taking turns; Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} cores, load average {load_before:.1f} before and {load_after:.1f} after.\n"
    )
    print("\n".join(ratio_table(medians)))

    verdict = 0
    production = medians.get("`ops plan --stack production --json`")
    if production:
        floor, strict = medians["import floor"], medians["import floor, collector off"]
        within = production.wall / floor.wall <= args.target
        verdict = 0 if within else 1
        print(
            f"\nproduction: {production.wall / floor.wall:.2f}x the import floor in wall time, "
            f"{production.cpu / floor.cpu:.2f}x in CPU time (target {args.target}x: {'met' if within else 'missed'}); "
            f"{production.wall / strict.wall:.2f}x and {production.cpu / strict.cpu:.2f}x the floor with the collector off."
        )

    if args.regions:
        print("\n| synthetic regions | resources | plan time after imports (s) | peak memory (MiB) |")
        print("|---:|---:|---:|---:|")
        results: dict[int, dict[str, float]] = {}
        for count in args.regions:
            results[count] = result = synthetic(count, args.repeat)
            print(
                f"| {count} | {int(result['resources'])} | {result['plan']:.3f} | {result['peak_kib'] / 1024:.0f} |", flush=True
            )
        if 5 in results and 50 in results:
            growth = results[50]["plan"] / results[5]["plan"]
            print(f"\n50 regions cost {growth:.1f}x the plan time of 5 (linear would be 10x; target at most 11x).")
    return verdict


if __name__ == "__main__":
    sys.exit(main())
