"""The Quarto-free renderer's parsing and assembly (no kernel): cell options, parameters,
cross-references, figure and table captions."""

from __future__ import annotations

import base64
from pathlib import Path

import nbformat

from pipelines.report import builtin

QMD = """---
title: "T"
---

Tekst med @fig-a og @tbl-b.

```{python}
#| tags: [parameters]
year = 2021
```

```{python}
#| label: fig-a
#| fig-cap: "En figur"
plot()
```

```{python}
#| label: tbl-b
#| tbl-cap: "En tabel"
#| output: asis
print(table)
```

Inline `{python} year + 1` slut.
"""

PNG = base64.b64encode(b"\x89PNG fake").decode()


def test_cell_options_and_front_matter() -> None:
    front, body = builtin.split_front_matter(QMD)
    assert front == {"title": "T"}
    opts, code = builtin.cell_options('#| label: fig-a\n#| fig-cap: "A: b"\nplot()\n')
    assert opts == {"label": "fig-a", "fig-cap": "A: b"}
    assert code == "plot()"
    assert body.lstrip().startswith("Tekst")


def test_notebook_parameters_and_inline() -> None:
    nb = builtin.read_notebook(QMD)
    kinds = [c.cell_type for c in nb.cells]
    assert kinds == ["markdown", "code", "code", "code", "markdown"]
    builtin.prepare_inline(nb)
    builtin.inject_parameters(nb, {"year": 2019, "results_dir": "/r"})
    # the injected cell comes right after the parameters cell, the inline cell before its text
    assert nb.cells[2].source.endswith("year = 2019\nresults_dir = '/r'")
    assert nb.cells[5].metadata.get("star_inline")
    assert "str(year + 1)" in nb.cells[5].source


def _executed(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Fake the kernel: attach the outputs a real execution would produce."""
    for c in nb.cells:
        if c.cell_type != "code":
            continue
        if "plot()" in c.source:
            c.outputs = [nbformat.v4.new_output("display_data", data={"image/png": PNG})]
        elif "print(table)" in c.source:
            text = "\n| A | B |\n|:---|---:|\n| x | 1 |\n"
            c.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        elif c.metadata.get("star_inline"):
            text = builtin.INLINE_MARK + '["2020"]\n'
            c.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    return nb


def test_assemble_numbers_figures_tables_and_references(tmp_path: Path) -> None:
    nb = builtin.read_notebook(QMD)
    builtin.prepare_inline(nb)
    md = builtin.assemble(
        _executed(nb), {"echo": False}, stem="t", lang="da", figures_dir=tmp_path / "figures"
    )
    assert "Tekst med [Figur 1](#fig-a) og [Tabel 1](#tbl-b)." in md
    assert "![Figur 1: En figur](figures/fig-a.png){#fig-a}" in md
    assert (tmp_path / "figures" / "fig-a.png").read_bytes() == b"\x89PNG fake"
    # the caption follows the table, separated by a blank line (Pandoc's pipe-table caption)
    assert "| x | 1 |\n\n: Tabel 1: En tabel {#tbl-b}" in md
    assert "Inline 2020 slut." in md
    assert "year = 2021" not in md  # echo: false


def test_assemble_english_and_unresolved(tmp_path: Path) -> None:
    nb = builtin.read_notebook(QMD.replace("@tbl-b", "@tbl-missing"))
    md = builtin.assemble(
        _executed(nb), {"echo": False}, stem="t", lang="en", figures_dir=tmp_path / "f"
    )
    assert "[Figure 1](#fig-a)" in md
    assert "Table ?" in md  # a reference to a table that is not in this run
    assert "@tbl" not in md  # never left for Pandoc to read as a citation


def test_include_false_and_echo(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    hidden = nbformat.v4.new_code_cell("#| include: false\nprint('x')")
    hidden.metadata["quarto"] = {"include": False}
    hidden.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x\n")]
    shown = nbformat.v4.new_code_cell("#| echo: true\nprint('y')")
    shown.metadata["quarto"] = {"echo": True}
    shown.outputs = [nbformat.v4.new_output("stream", name="stdout", text="y\n")]
    nb.cells = [hidden, shown]
    md = builtin.assemble(nb, {"echo": False}, stem="t", lang="da", figures_dir=tmp_path)
    assert "x" not in md.replace("text", "")
    assert "```python\nprint('y')\n```" in md
    assert "```\ny\n```" in md  # not asis: output in a code block
