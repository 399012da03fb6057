"""The documentation: every public object's docstring example runs, the user guide's
code runs and states what the code and the results files say, and the site builds.

The site is built with warnings as errors, from a copy of docs/, examples/ and
benchmarks/results/ in a temporary directory (so that nothing is written into the
repository), with the gallery's examples in their --fast mode (SKLLOSS_DOCS_FAST=1).
"""
import doctest
import importlib
import inspect
import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

import sklloss
import sklloss.losses
from sklloss import SGDClassifier, SGDRegressor
from sklloss.losses import LOSSES, _loss

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")
GUIDE = os.path.join(DOCS, "user_guide")
EXAMPLES = os.path.join(ROOT, "examples")
OPTIONS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


def public_objects():
    """(qualified name, object) of every public class and function: sklloss's
    __all__ (but the losses module and the version), sklloss.losses.__all__ (LOSSES
    is data: its example is in its attribute docstring), sklloss.model_selection's
    and sklloss.onnx's public functions, if that module exists."""
    found = [(f"sklloss.{name}", getattr(sklloss, name)) for name in sklloss.__all__
             if name not in ("losses", "__version__")]
    found += [(f"sklloss.losses.{name}", getattr(sklloss.losses, name))
              for name in sklloss.losses.__all__ if name != "LOSSES"]
    selection = importlib.import_module("sklloss.model_selection")
    found += [(f"sklloss.model_selection.{name}", getattr(selection, name))
              for name in selection.__all__]
    try:
        onnx = importlib.import_module("sklloss.onnx")
    except ImportError:  # not written yet, or skl2onnx missing
        onnx = None
    if onnx is not None:
        found += [(f"sklloss.onnx.{name}", getattr(onnx, name))
                  for name in getattr(onnx, "__all__", ())
                  if inspect.isclass(getattr(onnx, name)) or callable(getattr(onnx, name))]
    return found


PUBLIC = public_objects()


def _doctests(name, obj):
    finder = doctest.DocTestFinder(exclude_empty=True)
    return [test for test in finder.find(obj, name, module=inspect.getmodule(obj),
                                         globs={}) if test.examples]


def test_the_public_names_are_all_there():
    names = {name for name, _ in PUBLIC}
    assert {"sklloss.SGDClassifier", "sklloss.SGDRegressor", "sklloss.SGDOneClassSVM",
            "sklloss.Perceptron", "sklloss.InputConversionError", "sklloss.get_include",
            "sklloss.losses.get_loss", "sklloss.losses.Interval",
            "sklloss.losses.LogitLink", "sklloss.model_selection.GridSearchCV",
            "sklloss.model_selection.RandomizedSearchCV"} <= names
    assert len(names) == len(PUBLIC) >= 30


@pytest.mark.parametrize("name, obj", PUBLIC, ids=[name for name, _ in PUBLIC])
def test_every_public_object_has_an_example_that_runs(name, obj):
    doc = inspect.getdoc(obj) or ""
    assert re.search(r"^Examples\n--------\n", doc, flags=re.M), f"{name}: no Examples"
    own = [test for test in _doctests(name, obj) if test.name == name]
    assert own, f"{name}: its Examples section has no >>> example"
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    for test in _doctests(name, obj):  # its own example and its methods'
        runner.run(test)
    assert runner.failures == 0, f"{name}: {runner.failures} failing examples"


def test_the_losses_data_example_runs():
    from sphinx.pycode import ModuleAnalyzer

    doc = "\n".join(ModuleAnalyzer.for_module(_loss.__name__).find_attr_docs()[
        ("", "LOSSES")])
    test = doctest.DocTestParser().get_doctest(doc, {}, "sklloss.losses.LOSSES",
                                               _loss.__file__, 0)
    assert test.examples
    result = doctest.DocTestRunner(optionflags=OPTIONS).run(test)
    assert result.failed == 0


def test_every_example_of_the_loss_module_is_among_them():
    """(Was test_project.py's doctest of sklloss.losses._loss: its examples, all of
    which belong to public objects, run above.)"""
    covered = {test.name for name, obj in PUBLIC for test in _doctests(name, obj)}
    in_module = doctest.DocTestFinder(exclude_empty=True).find(_loss)
    names = {test.name.replace("sklloss.losses._loss.", "sklloss.losses.")
             for test in in_module if test.examples}
    assert len(names) > 10
    assert names <= covered, names - covered


# -- the user guide -----------------------------------------------------------------
def _read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def _python_blocks(text):
    """The code of each ``.. code-block:: python`` directive, dedented."""
    blocks = []
    for match in re.finditer(r"^( *)\.\. code-block:: python\n((?:\1 +.*\n|\n)+)", text,
                             flags=re.M):
        blocks.append(textwrap.dedent(match.group(2)))
    return blocks


GUIDE_PAGES = sorted(name for name in os.listdir(GUIDE) if name.endswith(".rst"))


@pytest.mark.parametrize("page", GUIDE_PAGES)
def test_user_guide_python_blocks_run(page, tmp_path, monkeypatch):
    """Every python block of a page runs, in order, in one namespace (later blocks may
    use what earlier ones defined, as a reader would), in an empty directory."""
    blocks = _python_blocks(_read(os.path.join(GUIDE, page)))
    monkeypatch.chdir(tmp_path)
    namespace = {}
    for block in blocks:
        exec(compile(block, page, "exec"), namespace)
    if page == "beyond.rst":
        assert len(blocks) >= 4
        assert namespace["probabilities"].shape[1] == 10  # the multinomial block's result


def test_user_guide_has_the_readmes_code():
    counts = {page: len(_python_blocks(_read(os.path.join(GUIDE, page))))
              for page in GUIDE_PAGES}
    assert sum(counts.values()) >= 8, counts
    assert all(counts[page] >= 1 for page in ("drop_in.rst", "beyond.rst", "losses.rst",
                                               "scaling_out.rst")), counts


def test_user_guide_shows_every_example_picture():
    shown = set()
    for page in GUIDE_PAGES:
        shown |= set(re.findall(r"^\.\. (?:image|figure):: \.\./\.\./(examples/images/\S+\.png)$",
                                _read(os.path.join(GUIDE, page)), flags=re.M))
    on_disk = {f"examples/images/{name}" for name in os.listdir(os.path.join(EXAMPLES, "images"))}
    plots = {f"examples/images/{name[:-3]}.png" for name in os.listdir(EXAMPLES)
             if name.startswith("plot_") and name.endswith(".py")}
    assert len(plots) >= 4
    assert shown == on_disk == plots


def _list_table_rows(text):
    """The rows of the list-tables of a page: each a list of its cells' text, with the
    whitespace of wrapped lines normalised."""
    rows = []
    for row in re.findall(r"^   \* - (.*?)(?=^   \* - |^\S|\Z)", text, flags=re.M | re.S):
        cells = re.split(r"\n     - ", row.rstrip("\n"))
        rows.append([" ".join(cell.split()) for cell in cells])
    return rows


def test_loss_table_is_the_losses_docstrings():
    """One row per loss of sklloss.losses, with the docstring's advice, word for word,
    the loss's link and the estimators that take it."""
    rows = _list_table_rows(_read(os.path.join(GUIDE, "losses.rst")))
    for name, cls in LOSSES.items():
        advice = re.search(r"When to use: (.*?)\n\n", cls.__doc__, flags=re.S).group(1)
        matching = [row for row in rows if row[0] == f"``{name}``"
                    and row[1].startswith(f"``{cls.__name__}(")]
        assert len(matching) == 1, name
        cells = matching[0]
        assert " ".join(advice.split()) in cells[5], name
        assert cells[3].startswith(f"``{cls.link.name}``: "), name
        takers = {estimator.__name__ for estimator in (SGDClassifier, SGDRegressor)
                  if name in estimator._allowed_losses}
        assert set(re.findall(r"``(SGD\w+)``", cells[4])) == takers, name


def test_every_user_guide_page_is_in_the_toctree():
    index = _read(os.path.join(DOCS, "index.rst"))
    for page in GUIDE_PAGES:
        assert f"user_guide/{page[:-4]}\n" in index, page
    assert "   deploying\n" in index and "   api\n" in index
    assert "auto_examples/index" in index


# -- the site -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def built_site(tmp_path_factory):
    """The site built as CI builds it: warnings are errors, the examples --fast."""
    base = tmp_path_factory.mktemp("site")
    shutil.copytree(DOCS, base / "docs", ignore=shutil.ignore_patterns(
        "_build", "generated", "auto_examples", "sg_execution_times.rst", "__pycache__"))
    shutil.copytree(EXAMPLES, base / "examples",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(os.path.join(ROOT, "benchmarks", "results"),
                    base / "benchmarks" / "results")
    images_before = sorted(os.listdir(base / "examples" / "images"))
    env = dict(os.environ, SKLLOSS_DOCS_FAST="1", MPLBACKEND="Agg",
               PYTHONIOENCODING="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         str(base / "docs"), str(base / "html")],
        cwd=base, env=env, capture_output=True, text=True, timeout=900)
    return base, result, images_before


def test_site_builds_without_a_warning(built_site):
    _, result, _ = built_site
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]


def test_site_has_an_api_page_for_every_public_name(built_site):
    base, result, _ = built_site
    assert result.returncode == 0, result.stderr[-3000:]
    html = base / "html"
    for name, _ in PUBLIC + [("sklloss.losses.LOSSES", None)]:
        page = html / "generated" / f"{name}.html"
        assert page.is_file(), name
        assert "Examples" in page.read_text(encoding="utf-8"), name
    api = (html / "api.html").read_text(encoding="utf-8")
    for name, _ in PUBLIC:
        assert f'href="generated/{name}.html' in api, name
    for page in GUIDE_PAGES:
        assert (html / "user_guide" / page.replace(".rst", ".html")).is_file(), page


def test_site_has_the_gallery_with_its_pictures(built_site):
    base, result, images_before = built_site
    assert result.returncode == 0, result.stderr[-3000:]
    html = base / "html"
    gallery = (html / "auto_examples" / "index.html").read_text(encoding="utf-8")
    for script in sorted(os.listdir(EXAMPLES)):
        if not script.endswith(".py"):
            continue
        stem = script[:-3]
        assert (html / "auto_examples" / f"{stem}.html").is_file(), script
        assert f"{stem}.html" in gallery, script
        thumbnail = html / "_images" / f"sphx_glr_{stem}_thumb.png"
        assert thumbnail.is_file(), script
        if stem.startswith("plot_"):
            # the figure the script drew, captured by the gallery (run, not copied)
            figure = html / "_images" / f"sphx_glr_{stem}_001.png"
            assert figure.is_file() and figure.stat().st_size > 10_000, script
            page = (html / "auto_examples" / f"{stem}.html").read_text(encoding="utf-8")
            assert f"sphx_glr_{stem}_001.png" in page, script
    # the examples wrote their own PNGs elsewhere, not into examples/images
    assert sorted(os.listdir(base / "examples" / "images")) == images_before


def test_site_benchmark_tables_are_the_results_files(built_site):
    """The benchmark tables are read from benchmarks/results at build time: each of
    their rows' numbers is on the page."""
    base, result, _ = built_site
    assert result.returncode == 0, result.stderr[-3000:]
    page = (base / "html" / "user_guide" / "benchmarks.html").read_text(encoding="utf-8")
    assert page.count("benchmark-table") >= 3
    for line in _read(os.path.join(ROOT, "benchmarks", "results", "sgd.md")).splitlines():
        if line.startswith("| W"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            assert f">{cells[1]}<" in page and f">{cells[2]}<" in page, line
