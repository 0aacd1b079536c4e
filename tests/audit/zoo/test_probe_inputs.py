"""The probe's input when the first guess is not enough: other image sides, a first layer past a
root that owns only tokens, lazy modules sized by a first forward pass, or one line asking for
the input."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

import initaudit
from initaudit.auditor.errors import AuditError
from initaudit.auditor.notes import Note, NoteKind
from initaudit.auditor.trace.example_inputs import candidate_examples, infer_example
from initaudit.model_command import run_model
from tests.audit.zoo.conftest import Zoo
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
    examples = list(candidate_examples(flat_head_cnn(), None, 0))
    assert [example.args[0].shape[-1] for example in examples[:8]] == [32, 28, 64, 96, 128, 224, 256, 384]
    # Then the inputs of the other layers that could come first.
    assert [(example.origin, example.args[0].shape) for example in examples[8:]] == [
        ("input of 2", (8, 8, 32, 32)), ("input of 6", (64, 392))]


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


class WordLanguageModel(nn.Module):
    """pytorch/examples' word language model: the embedding registered after the encoder."""

    def __init__(self, embedding_first: bool) -> None:
        super().__init__()
        if embedding_first:
            self.input_emb = nn.Embedding(100, 32)
        self.encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(32, 2, 64), 2, enable_nested_tensor=False)
        if not embedding_first:
            self.input_emb = nn.Embedding(100, 32)
        self.decoder = nn.Linear(32, 100)

    def forward(self, src: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(self.input_emb(src)))


@pytest.mark.parametrize("embedding_first", [True, False])
def test_the_first_layer_is_found_by_use_not_registration(embedding_first: bool) -> None:
    report = initaudit.audit(WordLanguageModel(embedding_first))
    note = _probe_note(report)
    assert note.kind is NoteKind.PROBED and report.signal
    origin = "first layer" if embedding_first else "input of input_emb"
    assert note.text == f"forward probe on {origin} (4x16)"


def test_no_layer_takes_the_input_reports_the_first_layers_failure() -> None:
    with pytest.raises(AuditError, match="cannot infer an input for a model starting with LayerNorm"):
        infer_example(nn.Sequential(nn.LayerNorm(8), nn.PReLU()), None, 0)


# --------------------------------------------------------------------------- diffusers-style denoisers
# Plain torch posing as diffusers (the module path and a config are what the convention reads).

def _posing(cls: type, **config: Any) -> nn.Module:
    cls.__module__ = "diffusers.models.posing"
    model = cls()
    model.config = types.SimpleNamespace(**config)
    return model


class Denoiser1D(nn.Module):
    """A 1-D UNet: its convolutions widen the sample with a time embedding first."""

    def __init__(self) -> None:
        super().__init__()
        self.time = nn.Linear(1, 6)
        self.conv = nn.Conv1d(2 + 6, 8, 3, padding=1)
        self.out = nn.Conv1d(8, 2, 1)

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor) -> torch.Tensor:
        time = self.time(timestep.float()[:, None])[..., None].expand(-1, -1, sample.shape[-1])
        return self.out(torch.relu(self.conv(torch.cat([sample, time], dim=1))))


class PackedTransformer(nn.Module):
    """Flux-style: packed latent tokens, text states, pooled text, rotary ids per axis, guidance."""

    def __init__(self) -> None:
        super().__init__()
        self.x_embedder = nn.Linear(16, 32)
        self.context_embedder = nn.Linear(24, 32)
        self.pooled = nn.Linear(12, 32)
        self.guidance_embedder = nn.Linear(1, 32)
        self.out = nn.Linear(32, 16)

    def forward(self, hidden_states: torch.Tensor, encoder_hidden_states: torch.Tensor | None = None,
                pooled_projections: torch.Tensor | None = None, timestep: torch.Tensor | None = None,
                img_ids: torch.Tensor | None = None, txt_ids: torch.Tensor | None = None,
                guidance: torch.Tensor | None = None) -> torch.Tensor:
        assert img_ids.shape == (hidden_states.shape[1], 3) and txt_ids.shape == (encoder_hidden_states.shape[1], 3)
        condition = self.pooled(pooled_projections) + self.guidance_embedder(guidance[:, None])
        tokens = torch.cat([self.context_embedder(encoder_hidden_states), self.x_embedder(hidden_states)], dim=1)
        tokens = torch.relu(tokens + condition[:, None])
        return self.out(tokens[:, encoder_hidden_states.shape[1]:])


class ControlDenoiser(nn.Module):
    """ControlNet-style: a control image at twice the latents' side, embedded down to them."""

    def __init__(self) -> None:
        super().__init__()
        self.conv_in = nn.Conv2d(4, 8, 3, padding=1)
        self.cond_embedding = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.SiLU(),
                                            nn.Conv2d(4, 8, 3, padding=1, stride=2))
        self.out = nn.Conv2d(8, 4, 1)

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor, controlnet_cond: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(self.conv_in(sample) + self.cond_embedding(controlnet_cond)))


class Denoiser2D(Denoiser1D):
    def __init__(self) -> None:
        nn.Module.__init__(self)
        self.conv = nn.Conv2d(4, 8, 3, padding=1)
        self.out = nn.Conv2d(8, 4, 1)

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(self.conv(sample)))


@pytest.mark.parametrize(("model", "shapes"), [
    (lambda: _posing(Denoiser1D, in_channels=2, sample_size=64), {"sample": (2, 2, 64)}),
    (lambda: _posing(PackedTransformer, in_channels=16, joint_attention_dim=24, pooled_projection_dim=12,
                     axes_dims_rope=(4, 6, 6), guidance_embeds=True),
     {"hidden_states": (2, 16, 16), "encoder_hidden_states": (2, 8, 24), "pooled_projections": (2, 12),
      "img_ids": (16, 3), "txt_ids": (8, 3), "guidance": (2,)}),
    (lambda: _posing(ControlDenoiser, in_channels=4, sample_size=16, conditioning_channels=3,
                     conditioning_embedding_out_channels=(4, 8)),
     {"sample": (2, 4, 16, 16), "controlnet_cond": (2, 3, 32, 32)}),
    (lambda: _posing(Denoiser2D, in_channels=4, sample_size=16), {"sample": (2, 4, 16, 16)}),
], ids=["unet_1d", "packed_tokens", "control_image", "unet_2d"])
def test_denoiser_inputs_follow_what_the_model_declares(model: Any, shapes: dict[str, tuple[int, ...]]) -> None:
    built = model()
    example = infer_example(built, None, 0)
    assert {name: tuple(value.shape) for name, value in example.kwargs.items() if name != "timestep"} == shapes
    report = initaudit.audit(built)
    assert _probe_note(report).kind is NoteKind.PROBED and report.coverage["traced"] == report.coverage["layers"]


def test_a_packed_transformer_without_guidance_gets_none() -> None:
    model = _posing(PackedTransformer, in_channels=16, joint_attention_dim=24, pooled_projection_dim=12,
                    axes_dims_rope=(4, 6, 6))
    assert "guidance" not in infer_example(model, None, 0).kwargs


@pytest.mark.parametrize("name", ["flux", "unet1d", "controlnet"])
def test_stock_diffusers_denoisers_take_the_inferred_input(zoo: Zoo, name: str) -> None:
    model = zoo.model(name)
    example = infer_example(model, None, 0)
    with torch.no_grad():
        model(*example.args, **example.kwargs)
