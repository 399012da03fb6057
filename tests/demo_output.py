"""What the demo (`python -m sklloss`) printed, read back for the tests that run it
(tests/test_project.py in this environment, tests/test_quick_start.py in a fresh
clone): its promises checked in one place."""
WAYS = {("scikit-learn", "scikit-learn"), ("scikit-learn", "sklloss"),
        ("sklloss", "sklloss")}


def check_demo_output(stdout):
    """For each data set, a row for each of the three searches, and sklloss's search
    choosing what scikit-learn's search over sklloss's estimator chooses (the same
    fits); for the binary and regression ones, what scikit-learn's own chooses too
    (scikit-learn's path from the same random_state)."""
    rows = [line.split() for line in stdout.splitlines()]
    for data_set in ("diabetes", "breast", "digits"):
        # (search, estimator) -> (chosen loss, alpha, test score)
        at = 2 if data_set != "breast" else 3  # ("breast cancer": two words)
        chosen = {tuple(row[at:at + 2]): tuple(row[-5:-2]) for row in rows
                  if row and row[0] == data_set and len(row) > 4}
        assert set(chosen) == WAYS, (data_set, stdout)
        assert chosen["sklloss", "sklloss"] == chosen["scikit-learn", "sklloss"], stdout
        if data_set != "digits":
            assert len(set(chosen.values())) == 1, stdout
