"""The release artefacts: one version number, and an sdist that carries what a build
and the test suite need, and no build outputs."""
import email.parser
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib

import pytest

import sklloss

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# what a build, a docs build or a test run leaves in the tree; none of it ships
BUILD_DIRS = {"build", "dist", "__pycache__", ".pytest_cache", ".hypothesis", ".ci-venv",
              "_build", "auto_examples", "generated"}
BUILD_SUFFIXES = (".so", ".pyd", ".o", ".c", ".cpp", ".pyc", ".pyo")
BUILD_FILES = {"sg_execution_times.rst"}
# for shutil.copytree: a copy of the tree as a fresh clone or an sdist has it
IGNORE_BUILD_OUTPUTS = shutil.ignore_patterns(
    *BUILD_DIRS, *BUILD_FILES, *(f"*{suffix}" for suffix in BUILD_SUFFIXES), "*.egg-info")


def _tree_files(top):
    """The project's files under ROOT/top (relative paths), build outputs left out."""
    found = set()
    for directory, subdirs, files in os.walk(os.path.join(ROOT, top)):
        subdirs[:] = [d for d in subdirs if d not in BUILD_DIRS and not d.endswith(".egg-info")]
        for name in files:
            if name.endswith(BUILD_SUFFIXES) or name in BUILD_FILES:
                continue
            found.add(os.path.relpath(os.path.join(directory, name), ROOT))
    return found


def test_one_version():
    """pyproject reads the version from sklloss.__version__; the installed metadata
    says the same."""
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        project = tomllib.load(f)
    assert "version" not in project["project"]
    assert project["project"]["dynamic"] == ["version"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "sklloss.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+(\.dev\d+|rc\d+)?", sklloss.__version__)
    assert importlib.metadata.version("sklloss") == sklloss.__version__


@pytest.fixture(scope="module")
def sdist(tmp_path_factory):
    """An sdist built by setuptools' PEP 517 backend (as `python -m build --sdist`
    does, without its isolated environment) from a copy of this tree without its
    build outputs: setuptools would also ship whatever an earlier build's
    sklloss.egg-info/SOURCES.txt lists, which a fresh clone does not have."""
    base = tmp_path_factory.mktemp("sdist")
    tree, out = base / "tree", base / "out"
    shutil.copytree(ROOT, tree, ignore=lambda directory, names: (
        IGNORE_BUILD_OUTPUTS(directory, names) | ({".git", ".venv", "venv"} & set(names))))
    result = subprocess.run(
        [sys.executable, "-c",
         "import sys, setuptools.build_meta as b; print(b.build_sdist(sys.argv[1]))",
         str(out)],
        cwd=tree, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    name = result.stdout.split()[-1]
    with tarfile.open(out / name) as archive:
        members = archive.getnames()
        top = members[0].split("/")[0]
        pkg_info = archive.extractfile(f"{top}/PKG-INFO").read().decode()
    assert top == f"sklloss-{sklloss.__version__}"
    return {m.split("/", 1)[1] for m in members if "/" in m}, pkg_info


def test_sdist_carries_the_sources_the_tests_and_the_licence(sdist):
    files, _ = sdist
    needed = {"LICENSE", "README.md", "pyproject.toml", "setup.py", "MANIFEST.in",
              os.path.join(".ci", "run")}
    for top in ("sklloss", "tests", "examples", "benchmarks", "docs"):
        needed |= _tree_files(top)
    assert any(path.endswith(".pyx") for path in needed)
    assert any(path.endswith(".pxd") for path in needed)
    assert sorted(needed - files) == []


def test_sdist_has_no_build_outputs(sdist):
    files, _ = sdist
    outputs = [path for path in files
               if path.endswith(BUILD_SUFFIXES) or path.split("/")[0] in ("build", "dist")
               or set(path.split("/")[:-1]) & BUILD_DIRS]
    assert outputs == []


def test_sdist_metadata(sdist):
    """What the registry page shows: the licence, classifiers, URLs, keywords."""
    _, pkg_info = sdist
    metadata = email.parser.Parser().parsestr(pkg_info)
    assert metadata["Name"] == "sklloss"
    assert metadata["Version"] == sklloss.__version__
    assert metadata["License-Expression"] == "BSD-3-Clause"
    assert metadata["License-File"] == "LICENSE"
    classifiers = metadata.get_all("Classifier")
    for version in ("3.10", "3.11", "3.12", "3.13"):
        assert f"Programming Language :: Python :: {version}" in classifiers
    urls = dict(url.split(", ", 1) for url in metadata.get_all("Project-URL"))
    assert urls["Documentation"] == "https://sklloss.readthedocs.io/"
    assert "scikit-learn" in metadata["Keywords"].split(",")
    assert metadata["Description-Content-Type"] == "text/markdown"
    with open(os.path.join(ROOT, "LICENSE")) as f:
        assert f.readline().strip() == "BSD 3-Clause License"
