"""The README's first command, typed as written by a newcomer: in the root of a fresh
clone, in a fresh virtual environment (the second command is what CI runs).

The clone is of the committed tree (HEAD), as a newcomer's would be. It needs git and
the package index, as `pip install .` does; it takes a few minutes (a full build).
Run from an unpacked sdist (no repository: the release check), the newcomer's tree is
a copy of the sdist's, which is what they would have unpacked.
"""
import os
import shutil
import subprocess
import sys

import pytest
from demo_output import check_demo_output
from test_project import _quick_start_commands
from test_release import IGNORE_BUILD_OUTPUTS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
pytestmark = pytest.mark.skipif(
    sys.platform == "win32", reason="the README's commands are typed in bash, and the "
    "virtual environment's programs are in bin/ (Windows: Scripts\\)")


def _fresh_tree(destination):
    """A newcomer's copy of the project: a git clone of HEAD, or, in an unpacked sdist
    (PKG-INFO, no .git), a copy of the sdist's files."""
    if os.path.isdir(os.path.join(ROOT, ".git")):
        if shutil.which("git") is None:
            pytest.fail("the quick-start test needs git to clone the checkout")
        subprocess.run(["git", "clone", "--quiet", ROOT, str(destination)], check=True)
    elif os.path.isfile(os.path.join(ROOT, "PKG-INFO")):
        shutil.copytree(ROOT, destination, ignore=IGNORE_BUILD_OUTPUTS)
    else:
        pytest.fail("the quick-start test needs a git checkout or an unpacked sdist")


@pytest.fixture(scope="module")
def fresh_clone(tmp_path_factory):
    """A fresh clone of HEAD and a fresh virtual environment, and the environment
    variables of a shell in which that virtual environment is active."""
    base = tmp_path_factory.mktemp("newcomer")
    clone, venv = base / "sklloss", base / "venv"
    _fresh_tree(clone)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {name: value for name, value in os.environ.items()
           if name not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PIP_PREFIX")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    return clone, venv, env


@pytest.fixture(scope="module")
def first_command(fresh_clone):
    clone, _, env = fresh_clone
    command = _quick_start_commands()[0]
    assert command == "pip install . && python -m sklloss"
    return subprocess.run(["bash", "-c", command], cwd=clone, env=env,
                          capture_output=True, text=True, timeout=1500)


def test_readme_first_command_runs_the_demo_in_the_clone_root(first_command):
    assert first_command.returncode == 0, (first_command.stdout[-3000:]
                                           + first_command.stderr[-3000:])
    check_demo_output(first_command.stdout)


def test_import_in_the_clone_root_after_install(fresh_clone, first_command):
    """`python -c "import sklloss"` where the newcomer is: the root, whose source tree
    shadows the installed package; the build placed the extensions there too."""
    assert first_command.returncode == 0
    clone, venv, env = fresh_clone
    result = subprocess.run(
        ["python", "-c", "import sklloss, sklloss.linear_model._engine as e; "
                         "print(e.__file__); print(sklloss.SGDClassifier().fit("
                         "[[0.0], [1.0]], [0, 1]).predict([[1.0]])[0])"],
        cwd=clone, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    engine_file, prediction = result.stdout.split()
    assert os.path.dirname(engine_file) == str(clone / "sklloss" / "linear_model")
    assert prediction == "1"


def test_an_unbuilt_tree_says_what_to_do(fresh_clone):
    """Before any build, importing the tree is an ImportError that says what to do."""
    clone, _, env = fresh_clone
    tree = clone.parent / "unbuilt"
    _fresh_tree(tree)
    # (the newcomer's venv, where sklloss is installed from the other clone: the tree
    # in the working directory comes first)
    result = subprocess.run(["python", "-c", "import sklloss"], cwd=tree, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith("ImportError: sklloss is being imported from")
    assert "run `pip install .`" in message
