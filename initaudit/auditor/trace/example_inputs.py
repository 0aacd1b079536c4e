"""A small random input for a model's forward pass, inferred from what the model is.

Library conventions first (Hugging Face ``dummy_inputs`` and configs, timm's ``pretrained_cfg``,
torchvision detection models, diffusers UNets and transformers, ``nn.Transformer*``), then the
first layer (integer ids for an ``nn.Embedding``, a batch for a Linear, convolution or RNN). When
the model rejects the first guess, its images are tried again at other common sides.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Iterator

import torch

from initaudit import knowledge
from initaudit.auditor.errors import AuditError
from initaudit.auditor.identify.layers import class_name
from initaudit.auditor.load.example import Example

CONV_SIDE = {1: 64, 2: 32, 3: 8}
CONV_BATCH = 8
#: Images at a library's own resolution (224 and up) are probed two at a time.
LARGE_IMAGE_BATCH = 2
DENSE_BATCH = 64
TOKEN_BATCH = 4
SEQUENCE = 16
#: Detection models resize whatever they get; this keeps the image they start from small.
DETECTION_SIDE = 64
#: Image sides tried, smallest first, when a model rejects the first guess (a position
#: embedding or a flattened head sized for one resolution).
COMMON_SIDES = (28, 32, 64, 96, 128, 224, 256, 384)
#: A raw waveform's length when the config names no feature-extractor convolutions (1 s at 16 kHz).
WAVEFORM_SAMPLES = 16000




def infer_example(model: torch.nn.Module, shape: tuple[int, ...] | None, seed: int) -> Example:
    generator = torch.Generator().manual_seed(seed)
    if shape is None:
        for recognise in _CONVENTIONS:
            found = recognise(model, generator)
            if found is not None:
                return found
    return _from_first_layer(model, shape, generator)


def candidate_examples(model: torch.nn.Module, shape: tuple[int, ...] | None, seed: int) -> Iterator[Example]:
    """The inferred input, then (no ``shape`` given) the same with its square images at each
    of :data:`COMMON_SIDES`: for the caller to try in turn until the model accepts one."""
    first = infer_example(model, shape, seed)
    yield first
    sides = {value.shape[-1] for value in _images(first)}
    if shape is not None or not sides:
        return
    generator = torch.Generator().manual_seed(seed)
    for side in COMMON_SIDES:
        if side not in sides:
            yield _resized(first, side, generator)


def has_lazy_parameters(model: torch.nn.Module) -> bool:
    """Whether a lazy module (``nn.LazyLinear``...) still waits for a forward pass to take its shapes."""
    return any(torch.nn.parameter.is_lazy(tensor) for tensor in (*model.parameters(), *model.buffers()))


# --------------------------------------------------------------------------- library conventions


def _hugging_face(model: torch.nn.Module, generator: torch.Generator) -> Example | None:
    config = getattr(model, "config", None)
    if config is None or not hasattr(model, "main_input_name") or not hasattr(config, "to_dict"):
        return None
    accepted = _forward_parameters(model)
    inputs: dict[str, Any] = {}
    main = model.main_input_name
    text = getattr(config, "text_config", None) or config
    vision = getattr(config, "vision_config", None) or config
    if main == "input_ids" or "input_ids" in accepted and getattr(text, "vocab_size", None):
        inputs["input_ids"] = _ids(text, generator)
    if main == "pixel_values" or ("pixel_values" in accepted and hasattr(config, "vision_config")):
        inputs["pixel_values"] = _pixels(vision, generator)
    if main in _AUDIO_INPUTS:
        inputs.pop("input_ids", None)
        inputs[main] = _AUDIO_INPUTS[main](config, generator)
    if getattr(config, "is_encoder_decoder", False) and "decoder_input_ids" in accepted:
        inputs["decoder_input_ids"] = _ids(text, generator)
    if not inputs:
        dummy = getattr(model, "dummy_inputs", None)
        inputs = dict(dummy) if isinstance(dummy, dict) else {}
    inputs = {key: value for key, value in inputs.items() if key in accepted or "kwargs" in accepted}
    return Example(kwargs=inputs, origin="Hugging Face config") if inputs else None


def _ids(config: Any, generator: torch.Generator) -> torch.Tensor:
    vocabulary = int(getattr(config, "vocab_size", 0) or 2)
    positions = getattr(config, "max_position_embeddings", None) or SEQUENCE
    return torch.randint(vocabulary, (TOKEN_BATCH, min(SEQUENCE, int(positions))), generator=generator)


def _pixels(config: Any, generator: torch.Generator) -> torch.Tensor:
    side = int(getattr(config, "image_size", 224) or 224)
    channels = int(getattr(config, "num_channels", 3) or 3)
    return torch.randn(_image_batch(side), channels, side, side, generator=generator)


def _speech(config: Any, generator: torch.Generator) -> torch.Tensor:
    """Log-mel features: frames first where the config gives the features per frame (Speech2Text,
    whose strided convolutions take any length), else Whisper's mel bins first, the encoder's
    two convolutions halving the frames once."""
    per_channel = getattr(config, "input_feat_per_channel", None)
    if per_channel:
        width = int(per_channel) * int(getattr(config, "input_channels", 1) or 1)
        return torch.randn(TOKEN_BATCH, 4 * SEQUENCE, width, generator=generator)
    bins = int(getattr(config, "num_mel_bins", 80))
    frames = 2 * int(getattr(config, "max_source_positions", 1500))
    return torch.randn(TOKEN_BATCH, bins, frames, generator=generator)


def _audio(config: Any, generator: torch.Generator) -> torch.Tensor:
    """``input_values``: a spectrogram (frames x mel bins) where the config has mel bins (AST),
    else a raw waveform long enough for the feature extractor's strided convolutions to give
    ``SEQUENCE`` frames (wav2vec 2.0, HuBERT, WavLM)."""
    bins = getattr(config, "num_mel_bins", None)
    if bins:
        frames = int(getattr(config, "max_length", None) or SEQUENCE)
        return torch.randn(TOKEN_BATCH, frames, int(bins), generator=generator)
    kernels, strides = getattr(config, "conv_kernel", None), getattr(config, "conv_stride", None)
    if not (kernels and strides):
        return torch.randn(TOKEN_BATCH, WAVEFORM_SAMPLES, generator=generator)
    # Enough frames for SpecAugment's time masks, which training mode applies.
    samples = max(SEQUENCE, 2 * int(getattr(config, "mask_time_length", 0) or 0))
    for kernel, stride in reversed(list(zip(kernels, strides))):
        samples = (samples - 1) * int(stride) + int(kernel)
    return torch.randn(TOKEN_BATCH, samples, generator=generator)


_AUDIO_INPUTS: dict[str, Callable[[Any, torch.Generator], torch.Tensor]] = {
    "input_features": _speech, "input_values": _audio,
}


def _timm(model: torch.nn.Module, generator: torch.Generator) -> Example | None:
    config = getattr(model, "pretrained_cfg", None)
    if not isinstance(config, dict) or "input_size" not in config:
        return None
    channels, height, width = config["input_size"]
    patch_embed = getattr(model, "patch_embed", None)
    size = getattr(patch_embed, "img_size", None)  # the size a ViT was built for
    if isinstance(size, (tuple, list)) and len(size) == 2:
        height, width = size
    batch = _image_batch(max(height, width))
    return Example((torch.randn(batch, channels, height, width, generator=generator),), origin="timm pretrained_cfg")


def _torchvision_detection(model: torch.nn.Module, generator: torch.Generator) -> Example | None:
    """A list of images and one box per image: in training mode a detection model returns its
    losses, and its batch norms normalise as they will in training (in eval mode they would
    apply the running statistics of a model that never saw data)."""
    transform = getattr(model, "transform", None)
    if class_name(transform) != "GeneralizedRCNNTransform" and not hasattr(model, "anchor_generator"):
        return None
    side = DETECTION_SIDE
    images = [torch.rand(3, side, side, generator=generator) for _ in range(2)]
    box = torch.tensor([[side / 8, side / 8, side / 2, side / 2]])
    target: dict[str, torch.Tensor] = {"boxes": box, "labels": torch.tensor([1])}
    heads = getattr(model, "roi_heads", None)
    if heads is not None and getattr(heads, "mask_predictor", None) is not None:
        mask = torch.zeros(1, side, side, dtype=torch.uint8)
        mask[:, side // 8:side // 2, side // 8:side // 2] = 1
        target["masks"] = mask
    return Example((images, [dict(target) for _ in images]), origin="torchvision detection convention")


def _diffusers(model: torch.nn.Module, generator: torch.Generator) -> Example | None:
    """A denoiser's call: latents under the forward's own name (``sample`` for a UNet,
    ``hidden_states`` for a diffusion transformer), a timestep per latent, and each conditioning
    input the forward takes that the config sizes (text states, class labels, pooled text)."""
    config = getattr(model, "config", None)
    accepted = _forward_parameters(model)
    main = next((name for name in _DIFFUSERS_LATENTS if name in accepted), None)
    if config is None or not type(model).__module__.startswith("diffusers") or "timestep" not in accepted or not main:
        return None
    size = getattr(config, "sample_size", None) or 32
    height, width = (size, size) if isinstance(size, int) else size
    channels = int(getattr(config, "in_channels", 4))
    kwargs: dict[str, Any] = {main: torch.randn(2, channels, height, width, generator=generator),
                              "timestep": torch.tensor([10, 500])}
    for name, make in _DIFFUSERS_CONDITIONS.items():
        value = make(config, generator) if name in accepted else None
        if value is not None:
            kwargs[name] = value
    if getattr(model, "use_additional_conditions", False) and "added_cond_kwargs" in accepted:
        kwargs["added_cond_kwargs"] = {"resolution": torch.tensor([[float(height), float(width)]] * 2),
                                       "aspect_ratio": torch.tensor([[height / width]] * 2)}
    return Example(kwargs=kwargs, origin="diffusers config")


def _first_size(config: Any, names: tuple[str, ...]) -> int | None:
    """The first of the config's ``names`` that is set (a list of per-block sizes gives its first)."""
    value = next((getattr(config, name, None) for name in names if getattr(config, name, None)), None)
    return int(value[0] if isinstance(value, (list, tuple)) else value) if value else None


def _text_states(config: Any, generator: torch.Generator) -> torch.Tensor | None:
    # What the model projects from (a transformer's caption_channels or joint_attention_dim, a
    # UNet's encoder_hid_dim) before the width it attends to (cross_attention_dim).
    width = _first_size(config, ("caption_channels", "joint_attention_dim", "encoder_hid_dim",
                                  "cross_attention_dim"))
    return torch.randn(2, 8, width, generator=generator) if width else None


def _class_labels(config: Any, generator: torch.Generator) -> torch.Tensor | None:
    classes = _first_size(config, ("num_embeds_ada_norm", "num_class_embeds"))
    return torch.randint(classes, (2,), generator=generator) if classes else None


def _pooled_text(config: Any, generator: torch.Generator) -> torch.Tensor | None:
    width = _first_size(config, ("pooled_projection_dim",))
    return torch.randn(2, width, generator=generator) if width else None


_DIFFUSERS_LATENTS = ("sample", "hidden_states")
_DIFFUSERS_CONDITIONS: dict[str, Callable[[Any, torch.Generator], torch.Tensor | None]] = {
    "encoder_hidden_states": _text_states, "class_labels": _class_labels, "pooled_projections": _pooled_text,
}


def _torch_transformer(model: torch.nn.Module, generator: torch.Generator) -> Example | None:
    layers = {torch.nn.TransformerEncoder: "layers", torch.nn.TransformerDecoder: "layers"}
    first: torch.nn.Module | None = model
    if type(model) in layers:
        first = model.layers[0]
    elif isinstance(model, torch.nn.Transformer):
        first = model.encoder.layers[0]
    if not isinstance(first, (torch.nn.TransformerEncoderLayer, torch.nn.TransformerDecoderLayer)):
        return None
    width = first.self_attn.embed_dim
    size = (TOKEN_BATCH, SEQUENCE, width) if first.self_attn.batch_first else (SEQUENCE, TOKEN_BATCH, width)
    source = torch.randn(size, generator=generator)
    decoder = isinstance(first, torch.nn.TransformerDecoderLayer) or isinstance(model, torch.nn.Transformer)
    args = (source, torch.randn(size, generator=generator)) if decoder else (source,)
    return Example(args, origin="d_model of the transformer layers")


_CONVENTIONS: tuple[Callable[[torch.nn.Module, torch.Generator], Example | None], ...] = (
    _hugging_face, _timm, _torchvision_detection, _diffusers, _torch_transformer,
)


# --------------------------------------------------------------------------- first layer


def _from_first_layer(model: torch.nn.Module, shape: tuple[int, ...] | None,
                      generator: torch.Generator) -> Example:
    first = _first_layer(model)
    if first is None:
        raise AuditError("the model has no parameters to probe")
    origin = "--input-shape" if shape is not None else "first layer"
    dtype = next(first.parameters()).dtype
    if shape is None and has_lazy_parameters(first):
        raise AuditError(f"the model starts with {class_name(first)}, whose input size only a first forward "
                         "pass sets; pass --input-shape or --example-inputs")
    if isinstance(first, (torch.nn.Embedding, torch.nn.EmbeddingBag)):
        size = shape or (TOKEN_BATCH, SEQUENCE)
        return Example((torch.randint(first.num_embeddings, size, generator=generator),), origin=origin)
    if shape is not None:
        return Example((torch.randn(shape, generator=generator, dtype=dtype),), origin=origin)
    name = class_name(first)
    if isinstance(first, torch.nn.Linear) or name in ("Linear", "LazyLinear"):
        return Example((torch.randn(DENSE_BATCH, first.in_features, generator=generator, dtype=dtype),),
                       origin=origin)
    if name in knowledge.TRANSPOSED_DENSE_LAYERS:
        features = first.weight.shape[0]
        return Example((torch.randn(DENSE_BATCH, features, generator=generator, dtype=dtype),), origin=origin)
    if isinstance(first, torch.nn.modules.conv._ConvNd):
        dims = len(first.kernel_size)
        size = (CONV_BATCH, first.in_channels, *([CONV_SIDE[dims]] * dims))
        return Example((torch.randn(size, generator=generator, dtype=dtype),), origin=origin)
    if isinstance(first, torch.nn.RNNBase):
        batch, steps = TOKEN_BATCH, SEQUENCE
        size = (batch, steps, first.input_size) if first.batch_first else (steps, batch, first.input_size)
        return Example((torch.randn(size, generator=generator, dtype=dtype),), origin=origin)
    raise AuditError(f"cannot infer an input for a model starting with {name}; pass --input-shape "
                     "or --example-inputs")


def _first_layer(model: torch.nn.Module) -> torch.nn.Module | None:
    """The first module owning a parameter, passing over a composite (a ViT's root) that owns only
    learned tokens and position tables: its first layer is further in."""
    owners = [m for m in model.modules() if any(True for _ in m.parameters(recurse=False))]
    layers = (m for m in owners if any(not knowledge.is_embedding_like(local)
                                       for local, _ in m.named_parameters(recurse=False)))
    return next(layers, owners[0] if owners else None)


# --------------------------------------------------------------------------- helpers


def _images(example: Example) -> list[torch.Tensor]:
    """The square floating-point images (batch x channels x side x side) among the inputs."""
    values = [*example.args, *example.kwargs.values()]
    return [v for v in values if isinstance(v, torch.Tensor) and v.is_floating_point() and v.dim() == 4
            and v.shape[-1] == v.shape[-2]]


def _resized(example: Example, side: int, generator: torch.Generator) -> Example:
    """``example`` with fresh images at ``side``; other inputs shared."""
    def resize(value: Any) -> Any:
        if not any(value is image for image in _images(example)):
            return value
        alone = len(example.args) + len(example.kwargs) == 1  # else the batch must match the others'
        batch = min(value.shape[0], _image_batch(side)) if alone else value.shape[0]
        return torch.randn(batch, value.shape[1], side, side, generator=generator, dtype=value.dtype)

    return Example(tuple(resize(v) for v in example.args), {k: resize(v) for k, v in example.kwargs.items()},
                   f"{example.origin}, images at side {side}")


def _image_batch(side: int) -> int:
    return CONV_BATCH if side <= CONV_SIDE[2] * 2 else LARGE_IMAGE_BATCH


def _forward_parameters(model: torch.nn.Module) -> set[str]:
    try:
        return set(inspect.signature(model.forward).parameters)
    except (TypeError, ValueError):
        return set()
