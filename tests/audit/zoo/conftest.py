"""Small stock models from transformers, timm, torchvision and diffusers, built once per session.

Each library is optional: a test asking for a model of a missing library is skipped. The
configurations are the smallest that keep each architecture (its blocks, norms, gates, heads).
"""

from __future__ import annotations

import functools
import warnings
from typing import Any, Callable

import pytest
import torch

from tests.audit.zoo import plain_models, tutorial_models
from tests.torchvision_ops import declare_torchvision_ops, import_torchvision


def _transformers() -> dict[str, Callable[[], torch.nn.Module]]:
    declare_torchvision_ops()
    t = pytest.importorskip("transformers")
    small = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128)
    tokens = dict(vocab_size=100, bos_token_id=1, eos_token_id=2, pad_token_id=0)
    seq2seq = dict(d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=2,
                   decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=64,
                   decoder_start_token_id=2, **tokens)
    decoder = dict(max_position_embeddings=64, num_key_value_heads=1, **small, **tokens)
    speech = dict(conv_dim=(16, 16), conv_stride=(5, 2), conv_kernel=(10, 3), num_conv_pos_embeddings=16,
                  num_conv_pos_embedding_groups=2, layerdrop=0.0)
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
        "roberta": lambda: t.RobertaModel(t.RobertaConfig(max_position_embeddings=66, **small, **tokens)),
        "distilbert": lambda: t.DistilBertModel(t.DistilBertConfig(
            dim=32, n_layers=2, n_heads=2, hidden_dim=128, max_position_embeddings=64, vocab_size=100, pad_token_id=0)),
        "albert": lambda: t.AlbertModel(t.AlbertConfig(embedding_size=16, max_position_embeddings=64, **small, **tokens)),
        "electra": lambda: t.ElectraForPreTraining(t.ElectraConfig(
            embedding_size=16, max_position_embeddings=64, **small, **tokens)),
        "deberta_v2": lambda: t.DebertaV2Model(t.DebertaV2Config(
            max_position_embeddings=64, relative_attention=True, position_buckets=16, **small, **tokens)),
        "bart": lambda: t.BartForConditionalGeneration(t.BartConfig(**seq2seq)),
        "pegasus": lambda: t.PegasusForConditionalGeneration(t.PegasusConfig(**seq2seq)),
        "opt": lambda: t.OPTForCausalLM(t.OPTConfig(
            hidden_size=32, num_hidden_layers=2, num_attention_heads=2, ffn_dim=128, max_position_embeddings=64,
            word_embed_proj_dim=32, **tokens)),
        "gpt_neox": lambda: t.GPTNeoXForCausalLM(t.GPTNeoXConfig(max_position_embeddings=64, **small, **tokens)),
        "bloom": lambda: t.BloomForCausalLM(t.BloomConfig(hidden_size=32, n_layer=2, n_head=2, **tokens)),
        "falcon": lambda: t.FalconForCausalLM(t.FalconConfig(
            hidden_size=32, num_hidden_layers=2, num_attention_heads=2, **tokens)),
        "mistral": lambda: t.MistralForCausalLM(t.MistralConfig(**decoder)),
        "qwen2": lambda: t.Qwen2ForCausalLM(t.Qwen2Config(**decoder)),
        "gemma": lambda: t.GemmaForCausalLM(t.GemmaConfig(head_dim=16, **decoder)),
        "phi": lambda: t.PhiForCausalLM(t.PhiConfig(**decoder)),
        # A state-space model: deterministic per-channel decay tables, convolutions read as weights.
        "mamba": lambda: t.MambaForCausalLM(t.MambaConfig(
            hidden_size=32, state_size=8, num_hidden_layers=2, expand=2, conv_kernel=4, **tokens)),
        "swin": lambda: t.SwinModel(t.SwinConfig(
            image_size=32, patch_size=4, embed_dim=16, depths=[1, 1], num_heads=[1, 2], window_size=4)),
        "convnext_hf": lambda: t.ConvNextForImageClassification(t.ConvNextConfig(
            num_stages=2, hidden_sizes=[16, 32], depths=[1, 1], num_labels=10, image_size=32)),
        "segformer": lambda: t.SegformerForSemanticSegmentation(t.SegformerConfig(
            num_encoder_blocks=2, depths=[1, 1], sr_ratios=[2, 1], hidden_sizes=[16, 32], patch_sizes=[7, 3],
            strides=[4, 2], num_attention_heads=[1, 2], mlp_ratios=[2, 2], decoder_hidden_size=32, num_labels=3,
            image_size=64)),
        "mobilevit": lambda: t.MobileViTModel(t.MobileViTConfig(
            image_size=64, hidden_sizes=[32, 32, 32], neck_hidden_sizes=[8, 8, 16, 16, 16, 24, 32],
            num_attention_heads=2)),
        "resnet_hf": lambda: t.ResNetForImageClassification(t.ResNetConfig(
            embedding_size=16, hidden_sizes=[16, 32], depths=[1, 1], layer_type="bottleneck", num_labels=10)),
        "hubert": lambda: t.HubertModel(t.HubertConfig(**speech, **small)),
        # Attention through F.multi_head_attention_forward: its projections are used as weights.
        "wavlm": lambda: t.WavLMModel(t.WavLMConfig(num_buckets=32, max_bucket_distance=64, **speech, **small)),
    }


def _timm() -> dict[str, Callable[[], torch.nn.Module]]:
    declare_torchvision_ops()
    timm = pytest.importorskip("timm")
    # The probe reads pretrained_cfg's input size; a small one keeps the zoo fast.
    small_input = dict(pretrained_cfg_overlay=dict(input_size=(3, 64, 64)), num_classes=10)
    vit = dict(img_size=32, patch_size=8, depth=2, embed_dim=64, num_heads=2, num_classes=10)
    at_32 = dict(pretrained_cfg_overlay=dict(input_size=(3, 32, 32)))

    def _sized(model: torch.nn.Module, side: int) -> torch.nn.Module:
        """A model made from its class, not by name, has no pretrained_cfg: give it the input size."""
        model.pretrained_cfg = dict(input_size=(3, side, side))
        return model

    def create(name: str, **kwargs: Any) -> Callable[[], torch.nn.Module]:
        return lambda: timm.create_model(name, pretrained=False, **kwargs)

    return {
        "timm_resnet50": create("resnet50", layers=[1, 1, 1, 1], **small_input),
        "timm_vit_s": create("vit_small_patch16_224", **vit),
        "timm_vit_s_jax": create("vit_small_patch16_224", weight_init="jax", **vit),
        "timm_convnext_t": create("convnext_tiny", depths=(1, 1, 1, 1), dims=(16, 32, 64, 128), **small_input),
        "timm_efficientnet_b0": create("efficientnet_b0", **small_input),
        "timm_regnety": create("regnety_002", **small_input),
        "timm_densenet121": create("densenet121", growth_rate=8, block_config=(2, 2, 2, 2), **small_input),
        "timm_mobilenetv3": create("mobilenetv3_small_050", **small_input),
        "timm_swin": create("swin_tiny_patch4_window7_224", img_size=32, window_size=4, embed_dim=32, depths=(1, 1),
                            num_heads=(2, 2), num_classes=10, pretrained_cfg_overlay=dict(input_size=(3, 32, 32))),
        "timm_deit_distilled": create("deit_tiny_distilled_patch16_224", **vit, **at_32),
        "timm_mixer": lambda: _sized(timm.models.mlp_mixer.MlpMixer(
            num_classes=10, img_size=32, patch_size=8, num_blocks=2, embed_dim=64), 32),
        "timm_poolformer": lambda: _sized(timm.models.metaformer.MetaFormer(
            num_classes=10, depths=(1, 1, 1, 1), dims=(16, 32, 64, 128), token_mixers=timm.models.metaformer.Pooling,
            mlp_act=torch.nn.GELU, mlp_bias=True, layer_scale_init_values=1e-5, res_scale_init_values=None,
            use_mlp_head=False), 64),
        "timm_convformer": lambda: _sized(timm.models.metaformer.MetaFormer(
            num_classes=10, depths=(1, 1, 1, 1), dims=(16, 32, 64, 128),
            token_mixers=timm.models.metaformer.SepConv), 64),
        "timm_levit": create("levit_128s", img_size=64, embed_dim=(32, 48, 64), depth=(1, 1, 1),
                             num_heads=(2, 2, 2), key_dim=8, **small_input),
        # Talking-heads attention: 2x2 head-mixing projections.
        "timm_cait": create("cait_xxs24_224", depth_token_only=1, **vit, **at_32),
        "timm_eva02": create("eva02_tiny_patch14_224", **vit, **at_32),
        "timm_ghostnet": create("ghostnet_050", **small_input),
        "timm_rexnet": create("rexnet_100", width_mult=0.5, **small_input),
        # Weight-standardised convolutions: the forward standardises each filter before using it.
        "timm_resnetv2_bit": lambda: _sized(timm.models.resnetv2.ResNetV2(
            layers=[1, 1, 1, 1], channels=(128, 256, 512, 1024), stem_chs=32, num_classes=10, stem_type="fixed",
            conv_layer=functools.partial(timm.layers.StdConv2d, eps=1e-8)), 64),
        "timm_nf_resnet26": create("nf_resnet26", **small_input),
        "timm_coatnet_nano": create("coatnet_nano_rw_224", img_size=64, **small_input),
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
        "tv_densenet": lambda: models.DenseNet(growth_rate=8, block_config=(2, 2, 2, 2), num_init_features=16,
                                               num_classes=10),
        # A head whose last convolution feeds a ReLU and a pool (torchvision draws it N(0, 0.01)).
        "tv_squeezenet": lambda: models.squeezenet1_1(num_classes=10),
        "tv_shufflenet": lambda: models.shufflenet_v2_x0_5(num_classes=10),
        "tv_mnasnet": lambda: models.mnasnet0_5(num_classes=10),
        "tv_googlenet": lambda: models.googlenet(num_classes=10, aux_logits=False, init_weights=True),
        "tv_efficientnet_b0": lambda: models.efficientnet_b0(num_classes=10),
        "tv_convnext": lambda: models.convnext.ConvNeXt(
            [models.convnext.CNBlockConfig(16, 32, 1), models.convnext.CNBlockConfig(32, 64, 1),
             models.convnext.CNBlockConfig(64, None, 1)], num_classes=10),
        "tv_swin": lambda: models.swin_transformer.SwinTransformer(
            patch_size=[4, 4], embed_dim=32, depths=[1, 1], num_heads=[2, 2], window_size=[4, 4], num_classes=10),
        "tv_vit": lambda: models.VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2,
                                                   hidden_dim=64, mlp_dim=128, num_classes=10),
        "tv_regnet": lambda: models.regnet_y_400mf(num_classes=10),
        "tv_deeplabv3": lambda: models.segmentation.deeplabv3_mobilenet_v3_large(num_classes=3, weights_backbone=None),
        "tv_fcn": lambda: models.segmentation.fcn_resnet50(num_classes=3, weights_backbone=None, aux_loss=False),
        "tv_ssdlite": lambda: models.detection.ssdlite320_mobilenet_v3_large(
            num_classes=3, weights_backbone=None, detections_per_img=8, topk_candidates=32),
        "tv_retinanet": lambda: models.detection.retinanet_resnet50_fpn(
            num_classes=3, weights_backbone=None, min_size=64, max_size=64, detections_per_img=8),
        "tv_r3d_18": lambda: models.video.r3d_18(num_classes=10),
    }


def _diffusers() -> dict[str, Callable[[], torch.nn.Module]]:
    declare_torchvision_ops()
    diffusers = pytest.importorskip("diffusers")
    transformer = dict(num_attention_heads=2, attention_head_dim=16, in_channels=4, out_channels=4, num_layers=2,
                       sample_size=8, patch_size=2, norm_num_groups=1)
    autoencoder = dict(in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
                       up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"), block_out_channels=(16, 32),
                       layers_per_block=1, norm_num_groups=8)
    conditioned = dict(block_out_channels=(16, 32), layers_per_block=1, norm_num_groups=8, cross_attention_dim=16,
                       attention_head_dim=8, down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"))
    return {"unet2d": lambda: diffusers.UNet2DModel(
        sample_size=16, in_channels=3, out_channels=3, block_out_channels=(16, 32), layers_per_block=1,
        norm_num_groups=8, down_block_types=("DownBlock2D", "AttnDownBlock2D"),
        up_block_types=("AttnUpBlock2D", "UpBlock2D")),
        # Diffusion transformers: hidden_states and timestep, with class labels or caption states.
        "dit": lambda: diffusers.DiTTransformer2DModel(num_embeds_ada_norm=10, **transformer),
        "pixart": lambda: diffusers.PixArtTransformer2DModel(cross_attention_dim=32, caption_channels=24,
                                                              **transformer),
        "vae_kl": lambda: diffusers.AutoencoderKL(latent_channels=4, sample_size=32, **autoencoder),
        "vqmodel": lambda: diffusers.VQModel(latent_channels=4, num_vq_embeddings=32, sample_size=32, **autoencoder),
        "unet2d_cond": lambda: diffusers.UNet2DConditionModel(
            sample_size=16, in_channels=4, out_channels=4, up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
            **conditioned),
        # Zero convolutions on every returned residual: each is an output layer.
        "controlnet": lambda: diffusers.ControlNetModel(in_channels=4, conditioning_embedding_out_channels=(8, 16),
                                                        **conditioned),
        "sd3": lambda: diffusers.SD3Transformer2DModel(
            sample_size=16, patch_size=2, in_channels=4, out_channels=4, num_layers=2, attention_head_dim=16,
            num_attention_heads=2, joint_attention_dim=32, caption_projection_dim=32, pooled_projection_dim=16,
            pos_embed_max_size=16),
        # Packed latent sequences with position ids, not image latents.
        "flux": lambda: diffusers.FluxTransformer2DModel(
            patch_size=1, in_channels=16, out_channels=16, num_layers=1, num_single_layers=1, attention_head_dim=16,
            num_attention_heads=2, joint_attention_dim=32, pooled_projection_dim=16, axes_dims_rope=(4, 6, 6)),
        # A 1-D UNet: (batch, channels, length) samples.
        "unet1d": lambda: diffusers.UNet1DModel(
            sample_size=64, in_channels=2, out_channels=2, extra_in_channels=32, block_out_channels=(16, 32, 32),
            down_block_types=("DownBlock1DNoSkip", "DownBlock1D", "AttnDownBlock1D"),
            up_block_types=("AttnUpBlock1D", "UpBlock1D", "UpBlock1DNoSkip"), mid_block_type="UNetMidBlock1D",
            out_block_type=None, act_fn="mish", time_embedding_type="fourier", flip_sin_to_cos=True,
            use_timestep_embedding=False),
    }


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
            "lazy_cnn": plain_models.lazy_head_cnn,
            "pt_lenet5": tutorial_models.LeNet5, "pt_mnist": tutorial_models.MnistNet,
            "pt_dcgan_g": tutorial_models.dcgan_g, "pt_dcgan_d": tutorial_models.dcgan_d,
            "pt_char_rnn": tutorial_models.CharRNN, "pt_seq2seq_attn": tutorial_models.Seq2SeqAttn,
            "pt_word_lm": tutorial_models.TransformerModel, "pt_vae": tutorial_models.VAE,
            "pt_pinn": tutorial_models.PINN, "pt_actor_critic": tutorial_models.ActorCritic,
            "pt_gcn": tutorial_models.gcn_with_inputs}


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
    **dict.fromkeys(("roberta", "distilbert", "albert", "electra", "deberta_v2", "bart", "pegasus", "opt", "gpt_neox",
                     "bloom", "falcon", "mistral", "qwen2", "gemma", "phi", "mamba", "swin", "convnext_hf",
                     "segformer", "mobilevit", "resnet_hf", "hubert", "wavlm"), "transformers"),
    **dict.fromkeys(("timm_densenet121", "timm_mobilenetv3", "timm_swin", "timm_deit_distilled", "timm_mixer",
                     "timm_poolformer", "timm_convformer", "timm_levit", "timm_cait", "timm_eva02", "timm_ghostnet",
                     "timm_rexnet", "timm_resnetv2_bit", "timm_nf_resnet26", "timm_coatnet_nano"), "timm"),
    **dict.fromkeys(("tv_densenet", "tv_squeezenet", "tv_shufflenet", "tv_mnasnet", "tv_googlenet",
                     "tv_efficientnet_b0", "tv_convnext", "tv_swin", "tv_vit", "tv_regnet", "tv_deeplabv3", "tv_fcn",
                     "tv_ssdlite", "tv_retinanet", "tv_r3d_18"), "torchvision"),
    **dict.fromkeys(("vae_kl", "vqmodel", "unet2d_cond", "controlnet", "sd3", "flux", "unet1d"), "diffusers"),
    **dict.fromkeys(("pt_lenet5", "pt_mnist", "pt_dcgan_g", "pt_dcgan_d", "pt_char_rnn", "pt_seq2seq_attn",
                     "pt_word_lm", "pt_vae", "pt_pinn", "pt_actor_critic", "pt_gcn"), "torch"),
}


class Zoo:
    """Stock models and their audits, each made on first use and kept for the session."""

    def __init__(self) -> None:
        self.models: dict[str, torch.nn.Module] = {}
        self.inputs: dict[str, Any] = {}
        self.reports: dict[str, Any] = {}

    def model(self, name: str) -> torch.nn.Module:
        """The model, built once; a builder may return ``(model, example_inputs)`` where no input
        can be guessed, as a factory does for ``initaudit model``."""
        if name not in self.models:
            builders = LIBRARIES[ZOO[name]]()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.manual_seed(0)
                built = builders[name]()
            model, self.inputs[name] = built if isinstance(built, tuple) else (built, None)
            self.models[name] = model.float()
        return self.models[name]

    def report(self, name: str) -> Any:
        if name not in self.reports:
            import initaudit

            model = self.model(name)
            self.reports[name] = initaudit.audit(model, example_inputs=self.inputs[name])
        return self.reports[name]


@pytest.fixture(scope="session")
def zoo() -> Zoo:
    return Zoo()
