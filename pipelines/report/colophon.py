"""The provenance colophon printed at the end of every document.

It is read from the run's manifest ``results/provenance.json`` (written by ``star run``, see
:mod:`pipelines.provenance`): package version, git commit, configuration hash, SHA-256 of each
input file, library versions and the run's date. The date is the run's, not the rendering's, so
rendering the same results twice gives the same document.
"""

from __future__ import annotations

from typing import Any

from .fmt import Lang, fmt_date, pipe_table


def _sha(entry: Any) -> str:
    """SHA-256 of an ``input_files`` entry: either the hash or ``{"path", "sha256"}``."""
    if isinstance(entry, dict):
        return str(entry.get("sha256", ""))
    return str(entry)


def run_date(provenance: dict[str, Any] | None) -> str | None:
    """ISO date-time of the run (``created``), or ``None``."""
    if not provenance:
        return None
    created = provenance.get("created")
    return str(created) if created else None


def colophon(
    provenance: dict[str, Any] | None,
    lang: Lang,
    *,
    threshold: int | None = None,
    full: bool = False,
    results_label: str = "results/provenance.json",
) -> str:
    """Markdown of the colophon section.

    ``full=True`` lists every input file with its whole hash and the library versions (technical
    appendix); otherwise hashes are shortened to 12 characters.
    """

    def t(da: str, en: str) -> str:
        return da if lang == "da" else en

    head = t("# Kolofon {.unnumbered}", "# Colophon {.unnumbered}")
    if not provenance:
        body = t(
            f"Der er ingen provenance-fil (`{results_label}`) for denne kørsel, så det kan ikke "
            "dokumenteres, hvilken kode, hvilke data og hvilken konfiguration der har dannet tallene.",
            f"There is no provenance manifest (`{results_label}`) for this run, so the code, data "
            "and configuration behind the numbers cannot be documented.",
        )
        return f"\n{head}\n\n::: {{.colophon}}\n{body}\n:::\n"
    cut = None if full else 12
    commit = str(provenance.get("git_commit") or t("ukendt", "unknown"))
    version = provenance.get("package_version") or t("ukendt", "unknown")
    cfg = str(provenance.get("config_hash") or "")
    date = fmt_date(run_date(provenance), lang)
    lines = [
        t(
            f"Dannet af star-kh {version} (git-commit `{commit[:cut] if cut else commit}`) ud fra "
            f"resultaterne af kørslen den {date}.",
            f"Produced by star-kh {version} (git commit `{commit[:cut] if cut else commit}`) from the "
            f"results of the run of {date}.",
        ),
        t(
            f"Konfigurationens SHA-256: `{cfg[:cut] if cut else cfg}`.",
            f"Configuration SHA-256: `{cfg[:cut] if cut else cfg}`.",
        ),
    ]
    if threshold is not None:
        lines.append(
            t(
                f"Diskretionering: mindst {threshold} personer bag hvert offentliggjort tal; "
                "overlevelseskurver kun hvor mindst så mange er i risiko og hvert trin samler "
                "mindst så mange hændelser.",
                f"Disclosure control: at least {threshold} persons behind every published number; "
                "survival curves only where at least as many are at risk and each step aggregates "
                "at least as many events.",
            )
        )
    inputs = provenance.get("input_files") or {}
    body = " ".join(lines)
    parts = [f"\n{head}\n", "::: {.colophon}", body, ""]
    if inputs:
        rows = [
            [name, f"`{_sha(v)[:cut] if cut else _sha(v)}`"] for name, v in sorted(inputs.items())
        ]
        if full:
            parts.append(pipe_table([t("Inddatafil", "Input file"), "SHA-256"], rows, ["l", "l"]))
        else:
            parts.append(
                t("Inddata (SHA-256, forkortet): ", "Input data (SHA-256, shortened): ")
                + "; ".join(f"{n} {h}" for n, h in rows)
                + "."
            )
        parts.append("")
    libs = provenance.get("library_versions") or {}
    if full and libs:
        parts.append(
            t("Biblioteker: ", "Libraries: ")
            + ", ".join(f"{k} {v}" for k, v in sorted(libs.items()))
            + "."
        )
        parts.append("")
    parts.append(":::")
    return "\n".join(parts) + "\n"
