"""Same-run A/B of two builds of sklloss: does a change cost time anywhere?

    python benchmarks/engine_ab.py A/bin/python B/bin/python           # ~25 min
    python benchmarks/engine_ab.py A/bin/python B/bin/python --quick   # ~4 min

A and B are two virtual environments with sklloss installed (e.g. the last landed
commit's build and yours). The cases are those of the other benchmarks, timed with
their own code: the workloads of ``run.py`` (per-epoch time of W1-W5), the shapes of
``floor.py`` (dense d = 10 ... 1000 and CSR rows of 10 ... 300 non-zeros, n_jobs 1 and
2) and the calls of ``overhead.py`` (fit on small data sets, partial_fit chunks of 1 to
1000 rows, predict). Every round runs each case in a subprocess of A, then of B, then
of A ... (--rounds, alternating which goes first), so that the two builds share the
machine's state over the run; reported per case: the median time of each and the
median over rounds of B / A. The table goes to stdout (and --out).

A ratio within about ±5% of 1 is noise on this machine (the spread of A against
itself is printed as "A / A", from A's first half of rounds against its second).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


# -- in a build: time the cases ----------------------------------------------------------
def _epoch_cases(quick):
    """(name, make(epochs) -> estimator, data factory) from run.py and floor.py."""
    import numpy as np

    import floor
    import run

    cases = []
    for name, data, (make_ours, _) in run.workloads(quick):
        cases.append((f"run.py {name}", make_ours, data))
    for layout, n, size, loss, task, dtype in floor.cases(quick):
        if dtype is not np.float64 or loss == "squared_error":
            continue  # (float32 and the third loss: covered by run.py's rows)
        for n_jobs in (1, 2):
            tag = f"floor.py {layout} {n}×{size} {loss} n_jobs={n_jobs}"
            candidates = floor.makers(loss, task)
            make = candidates.get(f"n_jobs={n_jobs}")
            if make is None:
                continue

            def data(layout=layout, n=n, size=size, task=task, dtype=dtype):
                rng = np.random.default_rng(0)
                if layout == "dense":
                    return floor.dense_data(n, size, task, dtype, rng)
                return floor.sparse_data(n, size, task, dtype, rng)
            cases.append((tag, make, data))
    return cases


def _call_cases():
    """(name, call) from overhead.py: ours only."""
    import overhead

    for generator in (overhead.fit_cases, overhead.partial_fit_cases,
                      overhead.predict_cases):
        for _, name, ours, _ in generator():
            yield f"overhead.py {name}", ours


def measure(quick, epochs, selected):
    """{case: seconds} in this build: per epoch, or per call."""
    import warnings

    import numpy as np

    import floor
    import overhead

    warnings.simplefilter("ignore")
    times = {}
    for name, make, data in _epoch_cases(quick):
        if selected and name not in selected:
            continue
        X, y = data()
        per_epoch = [floor.epoch_seconds(make, X, y, epochs) for _ in range(2)]
        times[name] = float(np.median(per_epoch))
    for name, call in _call_cases():
        if selected and name not in selected:
            continue
        for _ in range(3):
            call()
        n_calls = max(1, int(overhead.BATCH_SECONDS / max(overhead._batch(call, 1), 1e-7)))
        times[name] = statistics.median(overhead._batch(call, n_calls) / n_calls
                                        for _ in range(5))
    return times


# -- the driver: alternate the builds ---------------------------------------------------
def _run_build(python, quick, epochs):
    output = subprocess.run(
        [python, os.path.abspath(__file__), "--measure", "--epochs", str(epochs)]
        + (["--quick"] if quick else []),
        capture_output=True, text=True, check=True, cwd=HERE)
    return json.loads(output.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("python_a", nargs="?", help="build A's Python (the reference)")
    parser.add_argument("python_b", nargs="?", help="build B's Python")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=3, help="epochs timed per fit")
    parser.add_argument("--quick", action="store_true", help="small shapes")
    parser.add_argument("--out", help="also write the table here")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sys.path.insert(0, HERE)
    if args.measure:
        print(json.dumps(measure(args.quick, args.epochs, None)))
        return 0
    if not (args.python_a and args.python_b):
        parser.error("give the two builds' Pythons")
    runs = {"A": [], "B": []}
    start = time.time()
    for r in range(args.rounds):
        order = ("A", "B") if r % 2 == 0 else ("B", "A")
        for build in order:
            python = args.python_a if build == "A" else args.python_b
            runs[build].append(_run_build(python, args.quick, args.epochs))
        print(f"round {r + 1} of {args.rounds} done ({time.time() - start:.0f} s)",
              file=sys.stderr, flush=True)
    half = max(1, args.rounds // 2)
    lines = ["| case | A | B | B / A | A / A |", "|---|---:|---:|---:|---:|"]
    ratios = []
    for case in runs["A"][0]:
        a = [run[case] for run in runs["A"]]
        b = [run[case] for run in runs["B"]]
        ratio = statistics.median(y / x for x, y in zip(a, b))
        noise = statistics.median(a[half:]) / statistics.median(a[:half]) if len(a) > 1 else 1.0
        ratios.append(ratio)
        unit, scale = ("ms", 1e3) if statistics.median(a) > 1e-3 else ("µs", 1e6)
        lines.append(f"| {case} | {statistics.median(a) * scale:.1f} {unit} "
                     f"| {statistics.median(b) * scale:.1f} {unit} | {ratio:.3f} "
                     f"| {noise:.3f} |")
    lines.append("")
    lines.append(f"{len(ratios)} cases; B / A: median {statistics.median(ratios):.3f}, "
                 f"lowest {min(ratios):.3f}, highest {max(ratios):.3f}")
    table = "\n".join(lines)
    print(table)
    if args.out:
        with open(args.out, "w") as f:
            f.write(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
