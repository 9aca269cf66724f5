"""Provenance manifest written by every run: what produced the results.

The manifest records the package version, the git commit of the code, the SHA-256 of every input
file, the configuration and its hash, and the versions of the libraries that compute results, so a
published number can be traced to exactly what produced it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from pipelines.config import StarConfig, config_hash

LIBRARIES = (
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "scikit-learn",
    "pandera",
    "duckdb",
    "pyarrow",
    "pyreadstat",
    "matplotlib",
    "pydantic",
)


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file, read in 1 MiB chunks (memoised per path, size and mtime)."""
    st = Path(path).stat()
    return _sha256_cached(str(Path(path).resolve()), st.st_size, st.st_mtime_ns, chunk)


@functools.lru_cache(maxsize=4096)
def _sha256_cached(path: str, size: int, mtime_ns: int, chunk: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def git_commit(repo_dir: Path | None = None) -> str | None:
    """Commit hash of the code (with ``-dirty`` when the work tree has changes), or None."""
    cwd = repo_dir or Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("-dirty" if dirty else "")


def library_versions() -> dict[str, str]:
    out = {}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def build_manifest(
    config: StarConfig, input_files: dict[str, Path], created: datetime | None = None
) -> dict:
    """The provenance manifest as a dict (see module docstring).

    ``input_files`` maps a label (e.g. the table name) to the file that was read.
    """
    return {
        "package_version": metadata.version("star-kh"),
        "git_commit": git_commit(),
        "config_hash": config_hash(config),
        "config": config.model_dump(mode="json"),
        "input_files": {
            k: {"path": str(p), "sha256": file_sha256(p)} for k, p in sorted(input_files.items())
        },
        "library_versions": library_versions(),
        "created": (created or run_time()).isoformat(timespec="seconds"),
    }


def run_time() -> datetime:
    """Time of the run (UTC): ``SOURCE_DATE_EPOCH`` when set, else now.

    ``SOURCE_DATE_EPOCH`` (seconds since 1970, the reproducible-builds convention) pins the one
    time-dependent field of a run, so that two runs of the same input, configuration and seed give
    byte-identical provenance and documents (the documents print this date).
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return datetime.fromtimestamp(int(epoch), UTC)
        except ValueError as err:
            raise ValueError(
                f"SOURCE_DATE_EPOCH must be whole seconds since 1970, got {epoch!r}"
            ) from err
    return datetime.now(UTC)


def write_manifest(manifest: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
