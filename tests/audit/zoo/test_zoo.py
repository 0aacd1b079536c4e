"""Stock architectures audit clean and probed; injected faults are caught at warning or above."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest
import torch

import initaudit
from initaudit.auditor.notes import NoteKind
from initaudit.diagnostics import Severity
from initaudit.model_command import run_model
from tests.audit.zoo.conftest import ZOO, Zoo

#: Stock models whose warnings are true, each with the library code that causes it.
LIBRARY_FINDINGS = {
    # transformers' MobileViTPreTrainedModel._init_weights draws BatchNorm2d weights (the scales
    # after every convolution) from N(0, initializer_range=0.02), not ones: signs at random, every
    # channel scaled down about 50x. Its 4.x releases left BatchNorm at torch's default.
    "mobilevit": {"IA211"},
    # pytorch/examples' word_language_model builds nn.TransformerEncoder(layer, n), which deep-copies
    # one layer: every encoder layer starts identical (torch documents the copy).
    "pt_word_lm": {"IA204"},
    # torchvision's LastLevelP6P7 draws p6 and p7 with kaiming_uniform_(a=1), a linear gain, but
    # p7 reads F.relu(p6): p6 starts at 1/sqrt(2) of what the ReLU after it needs (Detectron's
    # convention; one layer, so the signal does not compound).
    "tv_retinanet": {"IA206"},
    # LeNet-5 as books write it keeps torch's default init (U(+-1/sqrt(fan_in)), std
    # 1/sqrt(3 fan_in)) before four tanh layers, which need gain 5/3: 0.35x at each, and the
    # gradient reaching the first layer is about 0.04x the last hidden layer's.
    "pt_lenet5": {"IA206", "IA207"},
}


def failing(report) -> list:
    return [f for f in report.findings if f.severity.fails]


def probed_on(report) -> str:
    """The inputs the forward probe ran on, as its note names them."""
    return next(note.text for note in report.notes if note.kind is NoteKind.PROBED)


@pytest.mark.parametrize("name", [name for name in ZOO if name not in LIBRARY_FINDINGS])
def test_stock_model_is_clean_and_probed(zoo: Zoo, name: str) -> None:
    report = zoo.report(name)
    assert failing(report) == []
    coverage = report.coverage
    assert report.signal and coverage["probed"] > 0
    assert coverage["traced"] >= coverage["layers"] - 2, coverage  # MultiheadAttention's fast path
    assert NoteKind.PROBED in {note.kind for note in report.notes}
    summary = json.loads(report.to_json())["summary"]
    assert summary["probed"] is True and summary["coverage"] == coverage


def test_encoder_decoder_and_multi_modal_inputs_are_inferred(zoo: Zoo) -> None:
    notes = {name: probed_on(zoo.report(name)) for name in ("t5", "whisper", "clip")}
    assert "input_ids=" in notes["t5"] and "decoder_input_ids=" in notes["t5"]
    assert "input_features=" in notes["whisper"] and "decoder_input_ids=" in notes["whisper"]
    assert "input_ids=" in notes["clip"] and "pixel_values=" in notes["clip"]


def test_inputs_follow_the_forward_signature_and_the_config(zoo: Zoo) -> None:
    notes = {name: probed_on(zoo.report(name))
             for name in ("wav2vec2", "speech2text", "dit", "pixart", "vit_root_tokens", "cnn_224")}
    assert "input_values=4x210" in notes["wav2vec2"]  # 16 frames through kernels 10, 3 and strides 5, 2
    assert "input_features=4x64x16, decoder_input_ids=4x16" in notes["speech2text"]
    assert "hidden_states=2x4x8x8, timestep=2, class_labels=2" in notes["dit"]
    assert "hidden_states=2x4x8x8, timestep=2, encoder_hidden_states=2x8x24" in notes["pixart"]
    assert "images at side 64 (8x3x64x64)" in notes["vit_root_tokens"]
    assert "images at side 224 (2x3x224x224)" in notes["cnn_224"]
    assert NoteKind.LAZY_MATERIALISED in {note.kind for note in zoo.report("lazy_cnn").notes}
    assert NoteKind.LAZY_MATERIALISED not in {note.kind for note in zoo.report("cnn_224").notes}


def test_timm_jax_recipe_is_recognised(zoo: Zoo) -> None:
    """timm's weight_init="jax" puts Xavier (0.45x He) before GELU in each block's Mlp: the
    original ViT recipe, explained as such; its zero head is the model's output layer."""
    jax = zoo.report("timm_vit_s_jax")
    recipe = [f for f in jax.findings if f.code == "IA206" and f.parameter.endswith("mlp.fc1.weight")]
    assert {f.parameter for f in recipe} == {"blocks.0.mlp.fc1.weight", "blocks.1.mlp.fc1.weight"}
    assert all(f.severity is Severity.INFO and "weight_init='jax'" in f.message for f in recipe)
    head = [f for f in jax.findings if f.parameter == "head.weight"]
    assert [(f.code, f.severity) for f in head] == [("IA201", Severity.INFO)]


def test_detector_box_head_keeps_torchs_default(zoo: Zoo) -> None:
    """torchvision's TwoMLPHead keeps torch's default Linear init (0.41x He) before two ReLUs; the
    probe, which ends its forward ratio at the last hidden layer (the box regression's own small
    scale is the output's), finds the signal in range, so that is explained, not warned."""
    detector = zoo.report("tv_faster_rcnn")
    head = [f for f in detector.findings if f.parameter and ".box_head." in f.parameter]
    assert {(f.parameter, f.code, f.severity) for f in head} == {
        ("roi_heads.box_head.fc6.weight", "IA206", Severity.INFO),
        ("roi_heads.box_head.fc7.weight", "IA206", Severity.INFO)}
    assert all("torch's default init" in f.message for f in head)


@pytest.mark.parametrize("name", sorted(LIBRARY_FINDINGS))
def test_library_findings(zoo: Zoo, name: str) -> None:
    report = zoo.report(name)
    assert {f.code for f in failing(report)} == LIBRARY_FINDINGS[name]
    assert report.signal


def test_torchs_own_encoder_copies_its_layer() -> None:
    copies = initaudit.audit(torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(32, 2, 64), 2))
    assert {f.code for f in failing(copies)} == {"IA204"}


def _set(name: str, value: Callable[[torch.Tensor], None]) -> Callable[[torch.nn.Module], None]:
    def inject(model: torch.nn.Module) -> None:
        with torch.no_grad():
            value(model.get_parameter(name))
    return inject


def _copy(source: str, target: str) -> Callable[[torch.nn.Module], None]:
    def inject(model: torch.nn.Module) -> None:
        with torch.no_grad():
            model.get_parameter(target).copy_(model.get_parameter(source))
    return inject


def _duplicate_rows(tensor: torch.Tensor) -> None:
    tensor[1:4] = tensor[0]


def _nan(tensor: torch.Tensor) -> None:
    tensor.view(-1)[0] = float("nan")


FAULTS = [
    ("zero", "bert", "encoder.layer.0.intermediate.dense.weight", _set, torch.nn.init.zeros_, "IA201"),
    ("constant", "tv_resnet18", "layer1.0.conv1.weight", _set, lambda t: t.fill_(0.01), "IA202"),
    ("duplicated rows", "timm_convnext_t", "stem.0.weight", _set, _duplicate_rows, "IA203"),
    ("NaN", "unet2d", "conv_in.weight", _set, _nan, "IA205"),
    ("xavier before GELU (HF Conv1D)", "gpt2", "transformer.h.0.mlp.c_fc.weight", _set,
     torch.nn.init.xavier_uniform_, "IA206"),
    ("xavier before GELU", "llama", "model.layers.1.mlp.gate_proj.weight", _set, torch.nn.init.xavier_normal_,
     "IA206"),
    ("xavier before ReLU", "tv_vgg11_bn", "classifier.3.weight", _set, torch.nn.init.xavier_uniform_, "IA206"),
    ("xavier before hardswish", "tv_mobilenet_v3", "classifier.0.weight", _set, torch.nn.init.xavier_normal_,
     "IA206"),
    ("unscaled N(0,1)", "bert", "encoder.layer.1.intermediate.dense.weight", _set, torch.nn.init.normal_, "IA206"),
    ("unscaled N(0,1)", "vit", "layers.0.attention.q_proj.weight", _set, torch.nn.init.normal_,
     "IA206"),
    ("unscaled N(0,1)", "vit", "layers.1.mlp.fc1.weight", _set, torch.nn.init.normal_, "IA206"),
    ("zero query", "mistral", "model.layers.0.self_attn.q_proj.weight", _set, torch.nn.init.zeros_, "IA201"),
    ("zero query", "sd3", "transformer_blocks.0.attn.to_q.weight", _set, torch.nn.init.zeros_, "IA201"),
    ("zero convolution", "tv_squeezenet", "features.3.squeeze.weight", _set, torch.nn.init.zeros_, "IA201"),
    ("unscaled N(0,1)", "roberta", "encoder.layer.0.intermediate.dense.weight", _set, torch.nn.init.normal_,
     "IA206"),
    ("unscaled N(0,1)", "bart", "model.encoder.layers.0.fc1.weight", _set, torch.nn.init.normal_, "IA206"),
    ("unscaled N(0,1)", "swin", "encoder.layers.0.blocks.0.mlp.fc1.weight", _set, torch.nn.init.normal_, "IA206"),
    ("unscaled N(0,1) used through F.linear", "wavlm", "encoder.layers.0.attention.out_proj.weight", _set,
     torch.nn.init.normal_, "IA206"),
    ("unscaled N(0,1) before a depthwise convolution", "mamba", "backbone.layers.1.mixer.in_proj.weight", _set,
     torch.nn.init.normal_, "IA206"),
    ("xavier before ReLU", "pt_mnist", "conv2.weight", _set, torch.nn.init.xavier_uniform_, "IA206"),
    ("norm scale around zero", "tv_resnet18", "layer1.0.bn1.weight", _set, lambda t: t.normal_(0, 0.02), "IA211"),
    ("norm scale around zero", "roberta", "encoder.layer.0.output.LayerNorm.weight", _set, torch.nn.init.normal_,
     "IA211"),
    ("head scaled up tenfold", "pt_pinn", "linears.3.weight", _set, lambda t: t.mul_(10), "IA206"),
    ("duplicated rows", "gemma", "model.layers.0.mlp.up_proj.weight", _set, _duplicate_rows, "IA203"),
    ("NaN", "timm_eva02", "blocks.0.mlp.fc1.weight", _set, _nan, "IA205"),
]
CLONES = [
    ("llama", "model.layers.0.mlp.up_proj.weight", "model.layers.1.mlp.up_proj.weight"),
    ("t5", "encoder.block.0.layer.0.SelfAttention.q.weight", "encoder.block.1.layer.0.SelfAttention.q.weight"),
]


@pytest.mark.parametrize(("fault", "name", "parameter", "make", "change", "code"), FAULTS,
                         ids=[f"{fault}-{name}" for fault, name, *_ in FAULTS])
def test_injected_fault_is_caught(zoo: Zoo, fault: str, name: str, parameter: str, make, change,
                                  code: str) -> None:
    model = copy.deepcopy(zoo.model(name))
    torch.manual_seed(1)
    make(parameter, change)(model)
    found = {(f.code, f.parameter) for f in failing(initaudit.audit(model))}
    assert (code, parameter) in found, found


@pytest.mark.parametrize(("name", "source", "target"), CLONES, ids=[c[0] for c in CLONES])
def test_cloned_layer_is_caught(zoo: Zoo, name: str, source: str, target: str) -> None:
    model = copy.deepcopy(zoo.model(name))
    _copy(source, target)(model)
    found = {(f.code, f.parameter) for f in failing(initaudit.audit(model))}
    assert ("IA204", target) in found, found


def test_gpt2_tied_head_saved_as_a_copy_is_no_clone(zoo: Zoo, tmp_path: Path) -> None:
    safetensors = pytest.importorskip("safetensors.torch")
    model = zoo.model("gpt2")
    state = {name: tensor.detach().clone().contiguous() for name, tensor in model.state_dict().items()
             if tensor.is_floating_point() and not name.endswith(".attn.bias")}
    assert torch.equal(state["lm_head.weight"], state["transformer.wte.weight"])
    path = tmp_path / "gpt2.safetensors"
    safetensors.save_file(state, str(path))
    result = subprocess.run([sys.executable, "-m", "initaudit", "model", str(path), "--format", "json"],
                            capture_output=True, text=True, timeout=300)
    report = json.loads(result.stdout)
    assert not [f for f in report["findings"] if f["code"] == "IA204"], report["findings"]
    untied = copy.deepcopy(model)
    untied.lm_head.weight = torch.nn.Parameter(untied.transformer.wte.weight.detach().clone())
    assert not [f for f in initaudit.audit(untied).findings if f.code == "IA204"]


#: Stock models saved by their library's own writer, and the writer.
SAVED = [("bert", "save_pretrained"), ("mistral", "save_pretrained"), ("mamba", "save_pretrained"),
         ("vae_kl", "save_pretrained"), ("controlnet", "save_pretrained"), ("timm_resnet50", "save_for_hf")]


def _verdicts(report: dict) -> tuple[set, dict]:
    findings = {(f["code"], f["severity"], f.get("parameter")) for f in report["findings"]}
    return findings, {p["name"]: (p["scheme"]["name"], p.get("activation")) for p in report["parameters"]}


@pytest.mark.parametrize(("name", "writer"), SAVED, ids=[name for name, _ in SAVED])
def test_a_saved_directory_audits_as_the_model_does(zoo: Zoo, name: str, writer: str, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """What the library's writer leaves (config and weights, no code) is audited as well as the
    model in memory: same findings, schemes and activations, and a probe."""
    model = zoo.model(name)
    if writer == "save_for_hf":
        from timm.models import _hub

        _hub.save_for_hf(model, str(tmp_path))
    else:
        model.save_pretrained(tmp_path)
    capsys.readouterr()
    status = run_model(str(tmp_path), output_format="json", isolated=True)
    saved = json.loads(capsys.readouterr().out)
    assert status in (0, 1) and saved["summary"]["probed"] is True
    assert _verdicts(saved) == _verdicts(json.loads(zoo.report(name).to_json()))
