"""Sphinx configuration of sklloss's documentation site.

Build it with ``pip install ".[docs]" && make -C docs html`` (warnings are errors).
The gallery runs the ``examples/plot_*.py`` scripts; with ``SKLLOSS_DOCS_FAST=1`` they
run in their ``--fast`` mode (what ``tests/test_docs.py`` and CI build), otherwise at
full size. Either way they write their PNG into a temporary directory, never into the
repository: the gallery keeps the figures they leave open.
"""
import os
import sys
from datetime import date

import sklloss

DOCS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(DOCS)
sys.path.insert(0, os.path.join(DOCS, "_ext"))

project = "sklloss"
author = "sklloss developers"
copyright = f"{date.today().year}, {author}"
release = sklloss.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.extlinks",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "sklloss_docs",  # docs/_ext/sklloss_docs.py: the benchmark-table directive
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "**/sg_execution_times.rst", "sg_execution_times.rst"]
# (no intersphinx: the build must work without network access)

# :repo:`benchmarks/run.py`: a file of the repository (benchmark scripts and results,
# which are not pages of this site)
extlinks = {"repo": ("https://github.com/sklloss/sklloss/blob/main/%s", "%s")}

# -- autodoc / autosummary / numpydoc ----------------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": False, "inherited-members": False}
autodoc_typehints = "none"
# the class template lists the methods itself (as scikit-learn-contrib projects do)
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# numpydoc's own validation is not turned into warnings: the docstrings follow
# numpydoc's sections but also document scikit-learn-style attributes
numpydoc_validation_checks = set()

# -- sphinx-gallery -----------------------------------------------------------------
FAST = os.environ.get("SKLLOSS_DOCS_FAST", "") not in ("", "0")
# sphinx-gallery reruns only the examples whose source changed: the pages of a build in
# the other mode (fast or full) are dropped, so that they are never shown for this one
_GALLERY = os.path.join(DOCS, "auto_examples")
_MODE = os.path.join(_GALLERY, ".sklloss-mode")
if os.path.isdir(_GALLERY):
    try:
        with open(_MODE) as f:
            _same_mode = f.read() == ("fast" if FAST else "full")
    except OSError:
        _same_mode = False
    if not _same_mode:
        import shutil

        shutil.rmtree(_GALLERY)
os.makedirs(_GALLERY, exist_ok=True)
with open(_MODE, "w") as f:
    f.write("fast" if FAST else "full")

sphinx_gallery_conf = {
    "examples_dirs": [os.path.join(ROOT, "examples")],
    "gallery_dirs": ["auto_examples"],
    # plot_*.py run (and give the pictures); the others are shown, not run
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py|/images/",
    # --fast when SKLLOSS_DOCS_FAST=1, and --out a temporary directory (the scripts'
    # own PNGs never land in the repository); see docs/_ext/sklloss_docs.py
    "reset_argv": "sklloss_docs.reset_argv",
    "download_all_examples": False,
    "backreferences_dir": "generated/backreferences",
    "doc_module": ("sklloss",),
    "inspect_global_variables": False,
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 1,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
}

# -- HTML -------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sklloss {release}"
html_static_path = []
html_show_sourcelink = False
html_theme_options = {
    "navbar_end": ["theme-switcher", "navbar-icon-links"],
    "secondary_sidebar_items": ["page-toc"],
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "header_links_before_dropdown": 6,
}
html_context = {"default_mode": "light"}
