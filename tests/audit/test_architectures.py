"""Checkpoint directories that carry their architecture are audited without --factory, never
running code from the directory; tied weights load with --factory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from initaudit.auditor.load.sources import open_source
from initaudit.auditor.notes import NoteKind
from initaudit.auditor.pipeline import analyse
from initaudit.model_command import run_model
from tests.torchvision_ops import declare_torchvision_ops

NEEDS_FACTORY = "need --factory"


def _import(name: str):  # type: ignore[no-untyped-def]
    """The library, once torchvision (which transformers and timm import) can import here."""
    declare_torchvision_ops()
    return pytest.importorskip(name)


def _report(spec: str, capsys: pytest.CaptureFixture[str], **options: object) -> tuple[int, dict]:
    status = run_model(spec, output_format="json", **options)  # type: ignore[arg-type]
    return status, json.loads(capsys.readouterr().out)


def _kinds(spec: str) -> list[NoteKind]:
    """The kinds of the notes of the audit of ``spec``, in order."""
    return [note.kind for note in analyse(open_source(spec)).report.notes]


def _gpt2(tie: bool = True):  # type: ignore[no-untyped-def]
    transformers = _import("transformers")
    torch.manual_seed(0)
    config = transformers.GPT2Config(n_layer=2, n_embd=32, n_head=2, vocab_size=100, n_positions=32,
                                     bos_token_id=0, eos_token_id=0, tie_word_embeddings=tie)
    return transformers.GPT2LMHeadModel(config)


@pytest.fixture(scope="module")
def gpt2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("gpt2")
    _gpt2().save_pretrained(directory)
    return directory


def test_transformers_directory_is_built_from_its_config(gpt2_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, report = _report(str(gpt2_dir), capsys)
    assert status == 0 and report["summary"]["probed"]
    assert NoteKind.NO_ARCHITECTURE not in _kinds(str(gpt2_dir))
    activations = {p["name"]: p["activation"] for p in report["parameters"]}
    assert activations["transformer.h.0.mlp.c_fc.weight"] == "gelu"
    assert {s["module"] for s in report["signal"]} >= {"transformer.h.0.mlp.c_fc", "lm_head"}


def test_tied_llama_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    transformers = _import("transformers")
    config = transformers.LlamaConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                      num_attention_heads=2, num_key_value_heads=2, vocab_size=100,
                                      tie_word_embeddings=True)
    transformers.LlamaForCausalLM(config).save_pretrained(tmp_path)
    source = open_source(str(tmp_path))
    assert source.module is not None and source.module.lm_head.weight is source.module.model.embed_tokens.weight
    assert not any(t.is_meta for t in list(source.module.parameters()) + list(source.module.buffers()))
    status, report = _report(str(tmp_path), capsys)
    assert status == 0 and report["summary"]["probed"]
    assert next(p for p in report["parameters"] if p["name"].endswith("gate_proj.weight"))["activation"] == "silu"


def test_custom_code_is_never_run(gpt2_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for item in gpt2_dir.iterdir():
        (tmp_path / item.name).write_bytes(item.read_bytes())
    marker = tmp_path / "ran"
    (tmp_path / "modeling_evil.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    config = json.loads((tmp_path / "config.json").read_text())
    config["auto_map"] = {"AutoModelForCausalLM": "modeling_evil.EvilModel"}
    (tmp_path / "config.json").write_text(json.dumps(config))
    status, report = _report(str(tmp_path), capsys)
    assert status == 0 and not marker.exists() and not report["summary"]["probed"]
    assert _kinds(str(tmp_path)) == [NoteKind.CONFIG_REFUSED, NoteKind.NO_ARCHITECTURE] and not marker.exists()


def test_a_bare_state_dict_says_what_needs_a_factory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from initaudit.auditor.load.safetensors_io import save_safetensors

    save_safetensors(torch.nn.Linear(16, 16).state_dict(), tmp_path / "model.safetensors")
    for spec in (tmp_path, tmp_path / "model.safetensors"):
        status, _ = _report(str(spec), capsys)
        assert status == 0 and _kinds(str(spec)) == [NoteKind.NO_ARCHITECTURE]
    run_model(str(tmp_path))
    assert NEEDS_FACTORY in capsys.readouterr().out


def test_timm_hub_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    timm = _import("timm")
    from timm.models import _hub

    torch.manual_seed(0)
    _hub.save_for_hf(timm.create_model("test_resnet", pretrained=False), str(tmp_path))
    status, report = _report(str(tmp_path), capsys)
    assert status == 0 and report["summary"]["probed"]
    assert any(p["activation"] == "relu" for p in report["parameters"])


def test_diffusers_directory_and_pipeline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    diffusers = _import("diffusers")
    unet = diffusers.UNet2DModel(sample_size=8, in_channels=3, out_channels=3, layers_per_block=1,
                                 block_out_channels=(8, 16), down_block_types=("DownBlock2D", "DownBlock2D"),
                                 up_block_types=("UpBlock2D", "UpBlock2D"), norm_num_groups=4)
    unet.save_pretrained(tmp_path / "unet")
    source = open_source(str(tmp_path / "unet"))
    assert type(source.module).__name__ == "UNet2DModel"
    assert torch.equal(source.module.conv_in.weight, unet.conv_in.weight)
    (tmp_path / "model_index.json").write_text(json.dumps({"_class_name": "DDPMPipeline",
                                                           "unet": ["diffusers", "UNet2DModel"]}))
    assert run_model(str(tmp_path)) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("initaudit: error:") and "diffusers pipeline" in error and "unet" in error


def test_a_checkpoint_lacking_a_parameter_is_refused(gpt2_dir: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from safetensors.torch import load_file, save_file

    state = load_file(str(gpt2_dir / "model.safetensors"))
    del state["transformer.h.1.mlp.c_fc.weight"]
    save_file(state, str(tmp_path / "model.safetensors"))
    (tmp_path / "config.json").write_bytes((gpt2_dir / "config.json").read_bytes())
    assert run_model(str(tmp_path)) == 2
    assert "lacks transformer.h.1.mlp.c_fc.weight" in capsys.readouterr().err


def test_fix_of_a_config_directory_keeps_its_config(gpt2_dir: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    broken = tmp_path / "broken"
    broken.mkdir()
    state = load_file(str(gpt2_dir / "model.safetensors"))
    state["transformer.h.0.mlp.c_fc.weight"].zero_()
    save_file(state, str(broken / "model.safetensors"), metadata={"format": "pt"})
    (broken / "config.json").write_bytes((gpt2_dir / "config.json").read_bytes())
    assert run_model(str(broken)) == 1
    out = tmp_path / "fixed"
    status = run_model(str(broken), fix=True, output=str(out))
    text = capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "model.safetensors"]
    fixed = load_file(str(out / "model.safetensors"))
    assert fixed.keys() == state.keys() and fixed["transformer.h.0.mlp.c_fc.weight"].std() > 0
    with safe_open(str(out / "model.safetensors"), "pt") as written:
        assert written.metadata() == {"format": "pt"}  # the file's own, not what the audit learnt
    assert status == 0 and "re-audit of the output: no finding" in text
    assert run_model(str(out)) == 0


# --------------------------------------------------------------------------- --factory, tied


FACTORY = """
import torch, transformers

def build(tie=True):
    torch.manual_seed(0)
    config = transformers.GPT2Config(n_layer=2, n_embd=32, n_head=2, vocab_size=100, n_positions=32,
                                     bos_token_id=0, eos_token_id=0, tie_word_embeddings=tie)
    return transformers.GPT2LMHeadModel(config)

def untied():
    return build(tie=False)
"""


@pytest.fixture()
def factory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    _import("transformers")
    (tmp_path / "tied_factory.py").write_text(FACTORY)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "tied_factory"


def test_tied_weights_load_with_a_factory(factory: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from initaudit.auditor.load.safetensors_io import save_safetensors

    model = _gpt2()
    both = tmp_path / "both.pt"
    torch.save(model.state_dict(), both)  # lm_head.weight and transformer.wte.weight, one storage
    one = tmp_path / "one.safetensors"
    save_safetensors({k: v for k, v in model.state_dict().items() if k != "lm_head.weight"}, one)
    head_only = tmp_path / "head.safetensors"
    save_safetensors({k: v for k, v in model.state_dict().items() if k != "transformer.wte.weight"}, head_only)
    for checkpoint in (both, one, head_only):
        source = open_source(str(checkpoint), factory=f"{factory}:build")
        assert source.module.lm_head.weight is source.module.transformer.wte.weight
        assert torch.equal(source.module.lm_head.weight, model.transformer.wte.weight)
        assert run_model(str(checkpoint), factory=f"{factory}:build") == 0, capsys.readouterr().err


def test_untied_or_differing_weights_are_still_refused(factory: str, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from initaudit.auditor.load.safetensors_io import save_safetensors

    state = {k: v.clone() for k, v in _gpt2().state_dict().items()}
    one = tmp_path / "one.safetensors"
    save_safetensors({k: v for k, v in state.items() if k != "lm_head.weight"}, one)
    assert run_model(str(one), factory=f"{factory}:untied") == 2
    assert "missing lm_head.weight" in capsys.readouterr().err
    state["lm_head.weight"] += 1
    differing = tmp_path / "differing.safetensors"
    save_safetensors(state, differing)
    assert run_model(str(differing), factory=f"{factory}:build") == 2
    assert "differ, but the factory's model ties them" in capsys.readouterr().err
