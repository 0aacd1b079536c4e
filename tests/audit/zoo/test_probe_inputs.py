"""The probe's input when the first guess is not enough: other image sides, a first layer past a
root that owns only tokens, lazy modules sized by a first forward pass, or one line asking for
the input."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

import initaudit
from initaudit.auditor.errors import AuditError
from initaudit.auditor.notes import Note, NoteKind
from initaudit.auditor.trace.example_inputs import candidate_examples, infer_example
from initaudit.model_command import run_model
from tests.audit.zoo.plain_models import TokenRootViT, flat_head_cnn, lazy_head_cnn
from tests.torchvision_ops import declare_torchvision_ops


def _probe_note(report) -> Note:
    return next(note for note in report.notes if note.kind in (NoteKind.PROBED, NoteKind.NO_FORWARD))


def test_an_input_the_model_accepts_is_not_searched() -> None:
    report = initaudit.audit(nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1)))
    note = _probe_note(report)
    assert note.kind is NoteKind.PROBED and note.text == "forward probe on first layer (8x3x32x32)"


def test_no_side_fits_reports_the_first_guess_failure() -> None:
    model = nn.Sequential(nn.Conv2d(3, 4, 5), nn.Flatten(), nn.Linear(4 * 196 * 196, 2))  # 200-pixel images
    report = initaudit.audit(model)
    note = _probe_note(report)
    assert note.kind is NoteKind.NO_FORWARD and "RuntimeError: mat1 and mat2 shapes cannot be multiplied" in note
    assert "(8x3136" in note  # 4 x 28 x 28: the 32-pixel guess
    assert report.signal == []


def test_a_given_input_shape_is_never_changed() -> None:
    report = initaudit.audit(flat_head_cnn(), (2, 3, 32, 32))
    assert _probe_note(report).kind is NoteKind.NO_FORWARD and report.signal == []


def test_sides_are_tried_for_images_only() -> None:
    assert len(list(candidate_examples(nn.Sequential(nn.Linear(8, 4)), None, 0))) == 1
    sides = [example.args[0].shape[-1] for example in candidate_examples(flat_head_cnn(), None, 0)]
    assert sides == [32, 28, 64, 96, 128, 224, 256, 384]


def test_first_layer_is_past_a_root_that_owns_only_tokens() -> None:
    example = infer_example(TokenRootViT(), None, 0)
    assert example.args[0].shape == (8, 3, 32, 32)  # from patch_embed, not "cannot infer ... TokenRootViT"


def test_lazy_modules_take_their_shapes_before_measuring() -> None:
    model = lazy_head_cnn()
    report = initaudit.audit(model)
    head = next(p for p in report.parameters if p.name == "5.weight")
    assert head.shape == (10, 16 * 16 * 16) and report.coverage["probed"] == 3
    assert type(model[5]) is nn.Linear  # materialised, as a first batch leaves it


def test_a_lazy_first_layer_asks_for_the_input() -> None:
    with pytest.raises(AuditError, match=r"starts with LazyLinear.*pass --input-shape or --example-inputs"):
        initaudit.audit(nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(2)))
    report = initaudit.audit(nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(2)), (16, 5))
    assert [p.shape for p in report.parameters if p.name.endswith("weight")] == [(8, 5), (2, 8)]


def test_a_lazy_model_from_a_factory(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "lazymodels.py").write_text(
        "from torch import nn\n"
        "def headed():\n"
        "    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Flatten(), nn.LazyLinear(4))\n"
        "def first():\n"
        "    return nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.Linear(8, 2))\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "lazymodels", raising=False)
    assert run_model(factory="lazymodels:headed", output_format="json") in (0, 1)
    report = json.loads(capsys.readouterr().out)
    assert report["summary"]["probed"] is True
    assert [p["shape"] for p in report["parameters"]][2] == [4, 8 * 30 * 30]
    assert run_model(factory="lazymodels:first") == 2
    error = capsys.readouterr().err
    assert "internal error" not in error and "pass --input-shape or --example-inputs" in error
    assert len(error.strip().splitlines()) == 1


def test_a_lazy_model_whose_forward_fails_is_one_line() -> None:
    class Broken(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)
            self.head = nn.LazyLinear(2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            raise ValueError("needs a mask")

    with pytest.raises(AuditError, match=r"lazy modules take their shapes .*ValueError: needs a mask"):
        initaudit.audit(Broken())


def test_a_spectrogram_as_input_values() -> None:
    """AST takes input_values too, but as frames x mel bins, sized by its config."""
    declare_torchvision_ops()
    transformers = pytest.importorskip("transformers")
    config = transformers.ASTConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                                    num_mel_bins=16, max_length=32, patch_size=8, frequency_stride=8, time_stride=8)
    model = transformers.ASTModel(config)
    example = infer_example(model, None, 0)
    assert example.kwargs["input_values"].shape == (4, 32, 16)
    model(**example.kwargs)
