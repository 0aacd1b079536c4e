"""--sample (a bounded share of each tensor, with a stated error bound) and --jobs (shards of a
sharded checkpoint measured in parallel processes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch.nn import init

from initaudit.auditor.identify.schemes import identify
from initaudit.auditor.load.safetensors_io import save_safetensors
from initaudit.auditor.load.sources import open_source
from initaudit.auditor.measure.tensorstats import SAMPLED_ELEMENTS, SAMPLED_STD_BOUND, sampled_rows, tensor_stats
from initaudit.auditor.notes import NoteKind
from initaudit.auditor.pipeline import analyse
from initaudit.model_command import run_model

SHAPES = [(2048, 1024), (1024, 4096), (3001, 700), (5_000_003,), (256, 512, 3, 3), (2, 1_500_000)]
INITS = {
    "normal": lambda t: init.normal_(t, std=0.02),
    "kaiming_uniform": lambda t: init.kaiming_uniform_(t, nonlinearity="relu") if t.dim() > 1 else init.uniform_(t),
    "xavier_normal": lambda t: init.xavier_normal_(t) if t.dim() > 1 else init.normal_(t),
    "trunc_normal": lambda t: init.trunc_normal_(t, std=0.02),
}


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_sampled_std_is_within_the_stated_bound(shape: tuple[int, ...]) -> None:
    generator_seed = 0
    for scheme, fill in INITS.items():
        torch.manual_seed(generator_seed)
        tensor = fill(torch.empty(shape))
        full, sampled = tensor_stats(tensor), tensor_stats(tensor, sample=True)
        assert sampled.sampled is not None and sampled.sampled <= SAMPLED_ELEMENTS
        assert sampled.shape == full.shape and sampled.numel == full.numel
        assert abs(sampled.std / full.std - 1) <= SAMPLED_STD_BOUND, (scheme, shape)
        assert abs(sampled.mean - full.mean) <= SAMPLED_STD_BOUND * full.std, (scheme, shape)
        if min(shape) >= 16:  # a few very long rows are orthogonal to rounding, whatever their init
            assert identify(sampled).name == identify(full).name, (scheme, shape)


def test_small_tensors_are_read_whole() -> None:
    tensor = torch.randn(512, 512)
    assert tensor_stats(tensor, sample=True) == tensor_stats(tensor)


def test_sampled_rows_are_spread_over_the_tensor() -> None:
    tensor = torch.arange(4096 * 1024, dtype=torch.float64).view(4096, 1024)
    part = sampled_rows(tensor, torch.Generator().manual_seed(0))
    stride = tensor.numel() // SAMPLED_ELEMENTS
    rows = (part[:, 0] / 1024).long()
    assert part.numel() == SAMPLED_ELEMENTS and rows[0] < stride and rows[-1] >= 4096 - stride
    assert bool((rows.diff() == stride).all())  # an even stride, whole rows
    assert torch.equal(part, tensor[rows])


def test_sampled_counts_are_scaled_to_the_whole_tensor() -> None:
    tensor = torch.randn(4096, 1024)
    tensor[:2048] = 0.0  # half the rows are zero
    stats = tensor_stats(tensor, sample=True)
    assert stats.zero_fraction == pytest.approx(0.5, abs=0.01)
    assert stats.zero_rows == pytest.approx(2048, abs=16)


def _json(capsys: pytest.CaptureFixture[str], spec: str | None = None, **options: object) -> tuple[int, dict]:
    status = run_model(spec, output_format="json", **options)
    return status, json.loads(capsys.readouterr().out)


def _sharded(directory: Path, shards: int = 3, width: int = 256) -> Path:
    directory.mkdir()
    torch.manual_seed(0)
    weight_map = {}
    for shard in range(shards):
        tensors = {}
        for layer in range(2):
            index = shard * 2 + layer
            tensors[f"layers.{index}.weight"] = init.kaiming_uniform_(torch.empty(width, width), a=5 ** 0.5)
            tensors[f"layers.{index}.bias"] = torch.zeros(width)
        if shard == 1:
            tensors["layers.2.weight"].zero_()
        file_name = f"model-{shard + 1:05d}-of-{shards:05d}.safetensors"
        save_safetensors(tensors, directory / file_name)
        weight_map.update({name: file_name for name in tensors})
    (directory / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    return directory


def test_jobs_gives_the_same_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    checkpoint = _sharded(tmp_path / "ckpt")
    one = _json(capsys, str(checkpoint))
    two = _json(capsys, str(checkpoint), jobs=2)
    assert one == two
    assert len(one[1]["parameters"]) == 12
    assert one[0] == 1 and any(f["parameter"] == "layers.2.weight" for f in one[1]["findings"])


def test_jobs_reports_a_broken_shard(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    checkpoint = _sharded(tmp_path / "ckpt")
    (checkpoint / "model-00002-of-00003.safetensors").write_bytes(b"not a checkpoint")
    assert run_model(str(checkpoint), jobs=2) == 2
    error = capsys.readouterr().err
    assert error.startswith("initaudit: error:") and "model-00002-of-00003.safetensors" in error


def test_sample_notes_what_was_sampled(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    torch.manual_seed(0)
    save_safetensors({"big.weight": init.normal_(torch.empty(2048, 1024), std=0.02),
                      "zeroed.weight": torch.zeros(2048, 1024), "small.weight": torch.randn(8, 8)},
                     tmp_path / "m.safetensors")
    status, report = _json(capsys, str(tmp_path / "m.safetensors"), sample=True)
    notes = [note for note in analyse(open_source(str(tmp_path / "m.safetensors")), sample=True).report.notes
             if note.kind is NoteKind.SAMPLED]
    assert len(notes) == 1 and "2 tensors" in notes[0] and str(SAMPLED_ELEMENTS) in notes[0]
    stds = {p["name"]: p["std"] for p in report["parameters"]}
    assert stds["big.weight"] == pytest.approx(0.02, rel=SAMPLED_STD_BOUND)
    assert status == 1 and any(f["parameter"] == "zeroed.weight" for f in report["findings"])
    whole = analyse(open_source(str(tmp_path / "m.safetensors"))).report.notes
    assert NoteKind.SAMPLED not in {note.kind for note in whole}


def test_sample_and_jobs_together(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    checkpoint = _sharded(tmp_path / "ckpt", width=1536)
    assert _json(capsys, str(checkpoint), sample=True) == _json(capsys, str(checkpoint), sample=True, jobs=2)


def test_statistics_do_not_depend_on_the_thread_count() -> None:
    """What --jobs relies on: a worker process (one thread) and the main process (a pool of
    threads) give bit-equal statistics."""
    tensor = torch.randn(1024, 4096)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(max(2, threads))
        pooled = [tensor_stats(tensor) for _ in range(4)]
        torch.set_num_threads(1)
        single = tensor_stats(tensor)
    finally:
        torch.set_num_threads(threads)
    assert all(stats == single for stats in pooled)
