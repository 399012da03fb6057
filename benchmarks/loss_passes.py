"""Models of different losses in one fit: a pass over the rows per loss, or one pass
whose every row switches from loss to loss? A same-run A/B of two builds.

    python benchmarks/loss_passes.py TREE_A TREE_B [--rounds 4]
        # -> benchmarks/results/loss_passes.md

TREE_A and TREE_B are clones of this repository built in place (``python setup.py
build_ext --inplace``), e.g. one at a commit whose engine runs a pass per loss and one
at a commit whose engine runs one pass, switched per run of one loss. Each round runs
every case in a subprocess of A, then of B (alternating which goes first); reported
per case: the median per-epoch time of each and B / A.

The cases are a search's candidates on one fold: 16 models (4 losses x 4 alphas) and
8 models (2 losses x 4 alphas), the same rows in the same order, one thread and two,
on dense 200k x 10 / 32 / 64 / 100 and CSR rows (200k x 2^18 with 60 non-zeros,
20k x 2^12 with 20). Per-epoch time: (fit of 1 + 3 epochs - fit of 1 epoch) / 3.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
LOSS_SETS = ["hinge,log_loss,modified_huber,squared_hinge", "hinge,log_loss"]


def _measure():
    """In a build: every case's per-epoch ms, as JSON on stdout."""
    import numpy as np

    sys.path.insert(0, HERE)
    import fused_models

    rng = np.random.default_rng(0)
    data = {f"dense 200k×{d}": fused_models.dense(200_000, d, rng) for d in (10, 32, 64, 100)}
    data["CSR 200k×2^18 60 nnz"] = fused_models.csr(200_000, 2 ** 18, 60, rng)
    data["CSR 20k×2^12 20 nnz"] = fused_models.csr(20_000, 2 ** 12, 20, rng)
    times = {}
    for name, (X, y) in data.items():
        for losses in LOSS_SETS:
            models = [fused_models.settings(loss, alpha) for alpha in (1e-6, 1e-5, 1e-4, 1e-3)
                      for loss in losses.split(",")]
            for n_threads in (1, 2):
                times[f"| {name} | {len(models)}: {losses} | {n_threads} |"] = 1e3 * \
                    fused_models.epoch_seconds(models, X, y, 3, n_threads)
    print(json.dumps(times))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a", help="tree A, built in place")
    parser.add_argument("b", help="tree B, built in place")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--out", default=RESULTS)
    args = parser.parse_args(argv)
    trees = {"A": os.path.abspath(args.a), "B": os.path.abspath(args.b)}
    times = {"A": [], "B": []}
    for r in range(args.rounds):
        for build in ("A", "B") if r % 2 == 0 else ("B", "A"):
            result = subprocess.run(
                [sys.executable, os.path.abspath(__file__), "--measure"],
                env=dict(os.environ, PYTHONPATH=trees[build]), capture_output=True,
                text=True, cwd=os.path.dirname(trees[build]), check=True)
            times[build].append(json.loads(result.stdout.strip().splitlines()[-1]))
        print(f"round {r + 1} of {args.rounds}", flush=True)
    lines = ["| X | models | threads | A ms/epoch | B ms/epoch | B / A |",
             "|---|---|---:|---:|---:|---:|"]
    for case in times["A"][0]:
        a = statistics.median(t[case] for t in times["A"])
        b = statistics.median(t[case] for t in times["B"])
        lines.append(f"{case} {a:.1f} | {b:.1f} | {b / a:.2f} |")
    table = "\n".join(lines)
    print(table)
    commits = {build: subprocess.run(["git", "-C", tree, "rev-parse", "--short", "HEAD"],
                                     capture_output=True, text=True).stdout.strip() or "?"
               for build, tree in trees.items()}
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "loss_passes.md"), "w") as f:
        f.write(f"# Models of different losses: two builds\n\n"
                f"`python benchmarks/loss_passes.py A B --rounds {args.rounds}` (medians of "
                f"{args.rounds} alternating rounds; A: commit {commits['A']}, B: commit "
                f"{commits['B']})\n\n{table}\n")


if __name__ == "__main__":
    if sys.argv[1:] == ["--measure"]:
        _measure()
    else:
        main()
