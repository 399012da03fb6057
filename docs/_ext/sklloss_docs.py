"""Sphinx helpers of sklloss's documentation.

- ``reset_argv``: the command-line arguments sphinx-gallery gives each example:
  ``--fast`` when ``SKLLOSS_DOCS_FAST`` is set (to anything but ``0``), and
  ``--out`` a temporary directory, so that the scripts' own PNG files never land in
  the repository (the gallery takes the figures from matplotlib itself).
- The ``benchmark-table`` directive: a table of a ``benchmarks/results/*.md`` file,
  read at build time, so that every number on the benchmark pages is the one the
  benchmark script wrote (stated once, in the results file)::

      .. benchmark-table:: floor.md
         :table: 1
         :columns: 0, 1, 3, 4
         :where: 2 = float64

  ``:table:`` is the 1-based index of the table in the file (default 1),
  ``:columns:`` the 0-based columns to show (default all), ``:where:`` keeps the rows
  whose column has that value (several conditions separated by ``;``).
- ``plain_foreign_refs``: scikit-learn's ``:ref:`` links in inherited docstrings
  become plain words.
"""
import atexit
import os
import re
import shutil
import tempfile

from docutils import nodes
from docutils.parsers.rst import Directive, directives

RESULTS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "benchmarks", "results")

_OUT_DIR = []


def _out_dir():
    if not _OUT_DIR:
        path = tempfile.mkdtemp(prefix="sklloss-gallery-")
        atexit.register(shutil.rmtree, path, ignore_errors=True)
        _OUT_DIR.append(path)
    return _OUT_DIR[0]


def reset_argv(gallery_conf, script_vars):
    """sys.argv[1:] of an example run by sphinx-gallery."""
    fast = os.environ.get("SKLLOSS_DOCS_FAST", "") not in ("", "0")
    return (["--fast"] if fast else []) + ["--out", _out_dir()]


def read_markdown_tables(path):
    """The pipe tables of a Markdown file: a list of (header, alignments, rows)."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    tables, block = [], []
    for line in lines + [""]:
        if line.startswith("|"):
            block.append(line)
            continue
        if len(block) >= 2:
            cells = [_cells(row) for row in block]
            header, separator, body = cells[0], cells[1], cells[2:]
            alignments = ["right" if cell.endswith(":") and not cell.startswith(":")
                          else "center" if cell.startswith(":") and cell.endswith(":")
                          else "left" for cell in separator]
            tables.append((header, alignments, body))
        block = []
    return tables


def _cells(row):
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def _rst_inline(text):
    # Markdown `code` -> reStructuredText ``code`` (bold is written alike in both)
    return re.sub(r"(?<!`)`([^`]+)`(?!`)", r"``\1``", text)


class BenchmarkTable(Directive):
    required_arguments = 1
    has_content = False
    option_spec = {
        "table": directives.positive_int,
        "columns": directives.unchanged,
        "where": directives.unchanged,
    }

    def run(self):
        name = self.arguments[0]
        path = os.path.join(RESULTS, name)
        env = self.state.document.settings.env
        env.note_dependency(path)
        tables = read_markdown_tables(path)
        index = self.options.get("table", 1)
        if not 1 <= index <= len(tables):
            raise self.error(f"{name} has {len(tables)} tables, not a table {index}")
        header, alignments, body = tables[index - 1]
        columns = list(range(len(header)))
        if "columns" in self.options:
            columns = [int(c) for c in re.split(r"[,\s]+", self.options["columns"].strip())]
        for condition in filter(None, self.options.get("where", "").split(";")):
            column, value = (part.strip() for part in condition.split("=", 1))
            body = [row for row in body if row[int(column)] == value]
        if not body:
            raise self.error(f"no row of table {index} of {name} is selected")

        table = nodes.table(classes=["benchmark-table"])
        title = nodes.title("", "", nodes.literal(text=f"benchmarks/results/{name}"))
        table += title
        group = nodes.tgroup(cols=len(columns))
        table += group
        for _ in columns:
            group += nodes.colspec(colwidth=1)
        thead, tbody = nodes.thead(), nodes.tbody()
        group += thead
        group += tbody
        for section, rows in ((thead, [header]), (tbody, body)):
            for cells in rows:
                row = nodes.row()
                for column in columns:
                    classes = ["text-end"] if alignments[column] == "right" else []
                    entry = nodes.entry(classes=classes)
                    inline, messages = self.state.inline_text(
                        _rst_inline(cells[column]), self.lineno)
                    entry += nodes.paragraph("", "", *inline)
                    entry += messages
                    row += entry
                section += row
        return [table]


def plain_foreign_refs(app, what, name, obj, options, lines):
    """Methods inherited from scikit-learn (``score``, ``set_fit_request``...) point
    into scikit-learn's user guide with ``:ref:``, a label this site does not have (and
    cannot fetch: no intersphinx without network): keep the words, drop the link."""
    module = getattr(obj, "__module__", None) or ""
    if not module.startswith("sklearn"):
        return
    for i, line in enumerate(lines):
        line = re.sub(r":ref:`([^`<]+?)\s*<[^`>]+>`", r"\1", line)
        lines[i] = re.sub(r":ref:`([^`]+)`", r"\1", line)


def setup(app):
    app.add_directive("benchmark-table", BenchmarkTable)
    # before numpydoc (priority 500) parses the docstring
    app.connect("autodoc-process-docstring", plain_foreign_refs, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
