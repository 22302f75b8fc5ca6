"""`tierwise sample` writes sample_data/committed/ byte for byte: the committed sample is the generator's output."""

from __future__ import annotations

import json
from pathlib import Path

from ingest_helpers import isolated, run_cli

COMMITTED = Path(__file__).resolve().parents[1] / "sample_data" / "committed"


def _files(root: Path) -> dict[str, bytes]:
    """Every file under `root` (hidden ones too), by its path relative to `root`."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_sample_command_rewrites_the_committed_sample_exactly(tmp_path: Path) -> None:
    out = tmp_path / "sample"
    (out / "traces").mkdir(parents=True)
    (out / "traces" / "stale.jsonl").write_text("{}\n")  # left by an earlier run: the command replaces the folder
    with isolated(tmp_path):
        result = run_cli("sample", "--out", str(out))
    assert result.exit_code == 0, result.output
    got, want = _files(out), _files(COMMITTED)
    assert sorted(got) == sorted(want)
    differ = [name for name in want if got[name] != want[name]]
    assert not differ, f"`tierwise sample` no longer writes these committed files (regenerate with `make sample`): {differ}"
    manifest = json.loads(want[".manifest.json"])
    assert manifest["options"]["seed"] == 42 and manifest["options"]["end"] == "2026-11-01"
    assert f"{manifest['spans']} spans in {manifest['traces']} traces, {len(manifest['files'])} files" in result.output
