"""Test the installed sklloss, not the source tree.

`python -m pytest` (the README's command) puts the current directory first on
sys.path, and from the repository root that makes `import sklloss` find the source
tree. `pip install .` builds the extensions there too (setup.py), so the tree would
import, but the tests are about what was installed (the package data that ships, for
one). So the tree is dropped from sys.path unless the installed sklloss *is* the tree:
an editable install (`pip install -e .`), or no install at all (an in-place build).
"""
import importlib.metadata
import json
import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _installed_copy():
    """True when a regular (not editable) sklloss distribution is installed (looked
    for outside the tree, which holds the build's own sklloss.egg-info)."""
    elsewhere = [p for p in sys.path if os.path.abspath(p or os.curdir) != _ROOT]
    for distribution in importlib.metadata.distributions(name="sklloss", path=elsewhere):
        direct_url = distribution.read_text("direct_url.json")
        return not (direct_url and json.loads(direct_url).get("dir_info", {}).get("editable"))
    return False


if _installed_copy():
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _ROOT]
