"""Test the installed sklloss, not the uncompiled source tree.

`python -m pytest` (the README's command) puts the current directory first on
sys.path, and from the repository root that makes `import sklloss` find the source
tree, which has no compiled extensions after a plain `pip install .`. Unless the tree
was built in place (`pip install -e .`), drop it from sys.path so that the tests
import the installed package.
"""
import glob
import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_BUILT_IN_PLACE = glob.glob(os.path.join(_ROOT, "sklloss", "losses", "_kernels.*.so")) or \
    glob.glob(os.path.join(_ROOT, "sklloss", "losses", "_kernels.*.pyd"))

if not _BUILT_IN_PLACE:
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _ROOT]
