"""Small stock models from transformers, timm, torchvision and diffusers, built once per session.

Each library is optional: a test asking for a model of a missing library is skipped. The
configurations are the smallest that keep each architecture (its blocks, norms, gates, heads).
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

import pytest
import torch

from tests.audit.zoo import plain_models
from tests.torchvision_ops import declare_torchvision_ops, import_torchvision


def _transformers() -> dict[str, Callable[[], torch.nn.Module]]:
    declare_torchvision_ops()
    t = pytest.importorskip("transformers")
    small = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128)
    tokens = dict(vocab_size=100, bos_token_id=1, eos_token_id=2, pad_token_id=0)
    return {
        "bert": lambda: t.BertModel(t.BertConfig(max_position_embeddings=64, **small, **tokens)),
        "gpt2": lambda: t.GPT2LMHeadModel(t.GPT2Config(n_positions=64, n_embd=32, n_layer=2, n_head=2, **tokens)),
        "t5": lambda: t.T5ForConditionalGeneration(t.T5Config(
            d_model=32, d_kv=16, d_ff=64, num_layers=2, num_heads=2, decoder_start_token_id=0, **tokens)),
        "llama": lambda: t.LlamaForCausalLM(t.LlamaConfig(
            max_position_embeddings=64, num_key_value_heads=2, **small, **tokens)),
        "vit": lambda: t.ViTModel(t.ViTConfig(image_size=32, patch_size=8, **small)),
        "clip": lambda: t.CLIPModel(t.CLIPConfig(
            text_config=dict(max_position_embeddings=32, **small, **tokens),
            vision_config=dict(image_size=32, patch_size=8, **small), projection_dim=16)),
        "whisper": lambda: t.WhisperForConditionalGeneration(t.WhisperConfig(
            d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=2, decoder_attention_heads=2,
            encoder_ffn_dim=64, decoder_ffn_dim=64, num_mel_bins=16, max_source_positions=32,
            max_target_positions=32, decoder_start_token_id=3, suppress_tokens=[], begin_suppress_tokens=[],
            **tokens)),
        # Raw waveform in (input_values), two strided convolutions before the encoder.
        "wav2vec2": lambda: t.Wav2Vec2Model(t.Wav2Vec2Config(
            conv_dim=(16, 16), conv_stride=(5, 2), conv_kernel=(10, 3), num_conv_pos_embeddings=16,
            num_conv_pos_embedding_groups=2, layerdrop=0.0, **small)),
        # Filter-bank frames in (input_features, frames first), then a decoder.
        "speech2text": lambda: t.Speech2TextModel(t.Speech2TextConfig(
            d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=2, decoder_attention_heads=2,
            encoder_ffn_dim=64, decoder_ffn_dim=64, max_source_positions=64, max_target_positions=32,
            conv_channels=16, input_feat_per_channel=16, **tokens)),
    }


def _timm() -> dict[str, Callable[[], torch.nn.Module]]:
    declare_torchvision_ops()
    timm = pytest.importorskip("timm")
    # The probe reads pretrained_cfg's input size; a small one keeps the zoo fast.
    small_input = dict(pretrained_cfg_overlay=dict(input_size=(3, 64, 64)), num_classes=10)
    vit = dict(img_size=32, patch_size=8, depth=2, embed_dim=64, num_heads=2, num_classes=10)

    def create(name: str, **kwargs: Any) -> Callable[[], torch.nn.Module]:
        return lambda: timm.create_model(name, pretrained=False, **kwargs)

    return {
        "timm_resnet50": create("resnet50", layers=[1, 1, 1, 1], **small_input),
        "timm_vit_s": create("vit_small_patch16_224", **vit),
        "timm_vit_s_jax": create("vit_small_patch16_224", weight_init="jax", **vit),
        "timm_convnext_t": create("convnext_tiny", depths=(1, 1, 1, 1), dims=(16, 32, 64, 128), **small_input),
        "timm_efficientnet_b0": create("efficientnet_b0", **small_input),
        "timm_regnety": create("regnety_002", **small_input),
    }


def _torchvision() -> dict[str, Callable[[], torch.nn.Module]]:
    torchvision = import_torchvision()
    models = torchvision.models
    return {
        "tv_resnet18": lambda: models.resnet18(num_classes=10),
        "tv_vgg11_bn": lambda: models.vgg11_bn(num_classes=10),
        "tv_mobilenet_v3": lambda: models.mobilenet_v3_small(num_classes=10),
        "tv_lraspp": lambda: models.segmentation.lraspp_mobilenet_v3_large(num_classes=3, weights_backbone=None),
        "tv_faster_rcnn": lambda: models.detection.fasterrcnn_mobilenet_v3_large_320_fpn(
            num_classes=3, weights_backbone=None, min_size=64, max_size=64, rpn_pre_nms_top_n_test=64,
            rpn_post_nms_top_n_test=16, box_detections_per_img=8),
    }


def _diffusers() -> dict[str, Callable[[], torch.nn.Module]]:
    declare_torchvision_ops()
    diffusers = pytest.importorskip("diffusers")
    transformer = dict(num_attention_heads=2, attention_head_dim=16, in_channels=4, out_channels=4, num_layers=2,
                       sample_size=8, patch_size=2, norm_num_groups=1)
    return {"unet2d": lambda: diffusers.UNet2DModel(
        sample_size=16, in_channels=3, out_channels=3, block_out_channels=(16, 32), layers_per_block=1,
        norm_num_groups=8, down_block_types=("DownBlock2D", "AttnDownBlock2D"),
        up_block_types=("AttnUpBlock2D", "UpBlock2D")),
        # Diffusion transformers: hidden_states and timestep, with class labels or caption states.
        "dit": lambda: diffusers.DiTTransformer2DModel(num_embeds_ada_norm=10, **transformer),
        "pixart": lambda: diffusers.PixArtTransformer2DModel(cross_attention_dim=32, caption_channels=24,
                                                              **transformer)}


def _torch() -> dict[str, Callable[[], torch.nn.Module]]:
    def encoder() -> torch.nn.Module:
        # Re-drawn per layer: the encoder's own deep copies start identical (IA204 catches that).
        model = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(32, 2, 64), 2)
        for layer in model.layers:
            layer.self_attn._reset_parameters()
            for linear in (layer.self_attn.out_proj, layer.linear1, layer.linear2):
                linear.reset_parameters()
        return model

    return {"transformer_encoder": encoder,
            "lstm": lambda: torch.nn.LSTM(16, 32, num_layers=2),
            "lstm_batch_first": lambda: torch.nn.LSTM(8, 16, batch_first=True, bidirectional=True),
            "vit_root_tokens": plain_models.TokenRootViT, "cnn_224": plain_models.flat_head_cnn,
            "lazy_cnn": plain_models.lazy_head_cnn}


LIBRARIES: dict[str, Callable[[], dict[str, Callable[[], torch.nn.Module]]]] = {
    "transformers": _transformers, "timm": _timm, "torchvision": _torchvision,
    "diffusers": _diffusers, "torch": _torch,
}
ZOO: dict[str, str] = {
    "bert": "transformers", "gpt2": "transformers", "t5": "transformers", "llama": "transformers",
    "vit": "transformers", "clip": "transformers", "whisper": "transformers", "wav2vec2": "transformers",
    "speech2text": "transformers",
    "timm_resnet50": "timm", "timm_vit_s": "timm", "timm_vit_s_jax": "timm", "timm_convnext_t": "timm",
    "timm_efficientnet_b0": "timm", "timm_regnety": "timm",
    "tv_resnet18": "torchvision", "tv_vgg11_bn": "torchvision", "tv_mobilenet_v3": "torchvision",
    "tv_lraspp": "torchvision", "tv_faster_rcnn": "torchvision",
    "unet2d": "diffusers", "dit": "diffusers", "pixart": "diffusers",
    "transformer_encoder": "torch", "lstm": "torch", "lstm_batch_first": "torch",
    "vit_root_tokens": "torch", "cnn_224": "torch", "lazy_cnn": "torch",
}


class Zoo:
    """Stock models and their audits, each made on first use and kept for the session."""

    def __init__(self) -> None:
        self.models: dict[str, torch.nn.Module] = {}
        self.reports: dict[str, Any] = {}

    def model(self, name: str) -> torch.nn.Module:
        if name not in self.models:
            builders = LIBRARIES[ZOO[name]]()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.manual_seed(0)
                self.models[name] = builders[name]().float()
        return self.models[name]

    def report(self, name: str) -> Any:
        if name not in self.reports:
            import initaudit

            self.reports[name] = initaudit.audit(self.model(name))
        return self.reports[name]


@pytest.fixture(scope="session")
def zoo() -> Zoo:
    return Zoo()
