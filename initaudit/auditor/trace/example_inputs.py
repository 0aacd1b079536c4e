"""A small random input for a model's forward pass, inferred from what the model is.

Library conventions first (Hugging Face ``dummy_inputs`` and configs, timm's ``pretrained_cfg``,
torchvision detection models, diffusers UNets and transformers, ``nn.Transformer*``), then the
first layer (integer ids for an ``nn.Embedding``, a batch for a Linear, convolution or RNN). When
the model rejects the first guess, its images are tried again at other common sides, then the
inputs of the other layers that could take the raw input (registration order need not be the
order of use: a language model may register its embedding after its encoder).
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
#: Other layers' inputs tried, at most, when the first layer's is rejected (each try is a forward pass).
OTHER_ENTRY_LAYERS = 3




def infer_example(model: torch.nn.Module, shape: tuple[int, ...] | None, seed: int) -> Example:
    return next(_inferred(model, shape, seed))


def candidate_examples(model: torch.nn.Module, shape: tuple[int, ...] | None, seed: int) -> Iterator[Example]:
    """The inferred input, then (no ``shape`` given) the same with its square images at each
    of :data:`COMMON_SIDES`, then the inputs of other layers that could come first: for the
    caller to try in turn until the model accepts one."""
    inferred = _inferred(model, shape, seed)
    first = next(inferred)
    yield first
    sides = {value.shape[-1] for value in _images(first)}
    if shape is None and sides:
        generator = torch.Generator().manual_seed(seed)
        for side in COMMON_SIDES:
            if side not in sides:
                yield _resized(first, side, generator)
    yield from inferred


def _inferred(model: torch.nn.Module, shape: tuple[int, ...] | None, seed: int) -> Iterator[Example]:
    """A library convention's input, else one per layer that could take the raw input."""
    generator = torch.Generator().manual_seed(seed)
    if shape is None:
        for recognise in _CONVENTIONS:
            found = recognise(model, generator)
            if found is not None:
                yield found
                return
    yield from _from_entry_layers(model, shape, generator)


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
    ``hidden_states`` for a diffusion transformer), laid out as the layer taking them reads them
    (:func:`_latents`), a timestep per latent, and each conditioning input the forward takes that
    the config sizes (text states, class labels, pooled text, rotary position ids, guidance, a
    control image)."""
    config = getattr(model, "config", None)
    accepted = _forward_parameters(model)
    main = next((name for name in _DIFFUSERS_LATENTS if name in accepted), None)
    if config is None or not type(model).__module__.startswith("diffusers") or "timestep" not in accepted or not main:
        return None
    latents = _latents(model, config, generator)
    kwargs: dict[str, Any] = {main: latents, "timestep": torch.tensor([10, 500])}
    for name, make in _DIFFUSERS_CONDITIONS.items():
        value = make(config, generator, latents) if name in accepted else None
        if value is not None:
            kwargs[name] = value
    if latents.dim() == 4 and getattr(model, "use_additional_conditions", False) and "added_cond_kwargs" in accepted:
        height, width = latents.shape[-2:]
        kwargs["added_cond_kwargs"] = {"resolution": torch.tensor([[float(height), float(width)]] * 2),
                                       "aspect_ratio": torch.tensor([[height / width]] * 2)}
    return Example(kwargs=kwargs, origin="diffusers config")


def _latents(model: torch.nn.Module, config: Any, generator: torch.Generator) -> torch.Tensor:
    """Latents of ``config.in_channels`` channels: a packed token sequence (batch x tokens x
    channels) for a model whose first layer on them is a Linear over the channels (Flux's
    ``x_embedder``), else as many spatial sides of ``sample_size`` as the convolutions have
    (a 1-D UNet's (batch, channels, length), an image's two)."""
    channels = int(getattr(config, "in_channels", 4) or 4)
    dims = _latent_dims(model, channels)
    if dims == 0:
        return torch.randn(2, SEQUENCE, channels, generator=generator)
    size = getattr(config, "sample_size", None) or 32
    sides = [int(side) for side in (size if isinstance(size, (list, tuple)) else [size])]
    sides = sides if len(sides) == dims else [sides[0]] * dims
    return torch.randn(2, channels, *sides, generator=generator)


def _latent_dims(model: torch.nn.Module, channels: int) -> int:
    """Spatial dimensions of the latents: those of the convolution taking ``channels`` inputs, 0
    (a token sequence) where a Linear takes them and no convolution does, else those of the
    model's first convolution (one that widens its input first, as a 1-D UNet concatenating its
    time embedding does), 2 without any."""
    convolutions = [m for m in model.modules() if isinstance(m, torch.nn.modules.conv._ConvNd)]
    taking = next((m for m in convolutions if m.in_channels == channels), None)
    if taking is not None:
        return len(taking.kernel_size)
    if any(isinstance(m, torch.nn.Linear) and m.in_features == channels for m in model.modules()):
        return 0
    return len(convolutions[0].kernel_size) if convolutions else 2


def _first_size(config: Any, names: tuple[str, ...]) -> int | None:
    """The first of the config's ``names`` that is set (a list of per-block sizes gives its first)."""
    value = next((getattr(config, name, None) for name in names if getattr(config, name, None)), None)
    return int(value[0] if isinstance(value, (list, tuple)) else value) if value else None


def _text_states(config: Any, generator: torch.Generator, latents: torch.Tensor) -> torch.Tensor | None:
    # What the model projects from (a transformer's caption_channels or joint_attention_dim, a
    # UNet's encoder_hid_dim) before the width it attends to (cross_attention_dim).
    width = _first_size(config, ("caption_channels", "joint_attention_dim", "encoder_hid_dim",
                                  "cross_attention_dim"))
    return torch.randn(len(latents), TEXT_TOKENS, width, generator=generator) if width else None


def _class_labels(config: Any, generator: torch.Generator, latents: torch.Tensor) -> torch.Tensor | None:
    classes = _first_size(config, ("num_embeds_ada_norm", "num_class_embeds"))
    return torch.randint(classes, (len(latents),), generator=generator) if classes else None


def _pooled_text(config: Any, generator: torch.Generator, latents: torch.Tensor) -> torch.Tensor | None:
    width = _first_size(config, ("pooled_projection_dim",))
    return torch.randn(len(latents), width, generator=generator) if width else None


def _position_ids(tokens: int, config: Any) -> torch.Tensor | None:
    """Rotary position ids, one row per token and one column per axis the config gives rotary
    sizes for (``axes_dims_rope``)."""
    axes = getattr(config, "axes_dims_rope", None)
    if not axes:
        return None
    return torch.arange(tokens, dtype=torch.float32)[:, None].expand(tokens, len(axes)).contiguous()


def _image_ids(config: Any, generator: torch.Generator, latents: torch.Tensor) -> torch.Tensor | None:
    return _position_ids(latents.shape[1], config) if latents.dim() == 3 else None


def _text_ids(config: Any, generator: torch.Generator, latents: torch.Tensor) -> torch.Tensor | None:
    return _position_ids(TEXT_TOKENS, config)


def _guidance(config: Any, generator: torch.Generator, latents: torch.Tensor) -> torch.Tensor | None:
    """A guidance scale per latent, where the config embeds one (a guidance-distilled model)."""
    return torch.full((len(latents),), 3.5) if getattr(config, "guidance_embeds", False) else None


def _control_image(config: Any, generator: torch.Generator, latents: torch.Tensor) -> torch.Tensor | None:
    """The image a ControlNet is conditioned on: ``conditioning_channels`` channels, larger than the
    latents by the halvings of its conditioning embedding (one per stage after the first)."""
    channels = getattr(config, "conditioning_channels", None)
    if not channels or latents.dim() < 3:
        return None
    stages = getattr(config, "conditioning_embedding_out_channels", None) or ()
    scale = 2 ** max(len(stages) - 1, 0)
    sides = [side * scale for side in latents.shape[2:]]
    return torch.randn(len(latents), int(channels), *sides, generator=generator)


_DIFFUSERS_LATENTS = ("sample", "hidden_states")
#: Text tokens of the conditioning states (and their position ids).
TEXT_TOKENS = 8
_DIFFUSERS_CONDITIONS: dict[str, Callable[[Any, torch.Generator, torch.Tensor], torch.Tensor | None]] = {
    "encoder_hidden_states": _text_states, "class_labels": _class_labels, "pooled_projections": _pooled_text,
    "img_ids": _image_ids, "txt_ids": _text_ids, "guidance": _guidance, "controlnet_cond": _control_image,
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


def _from_entry_layers(model: torch.nn.Module, shape: tuple[int, ...] | None,
                       generator: torch.Generator) -> Iterator[Example]:
    """The first layer's input, then those of the other layers that could take the raw input
    (:func:`_entry_layers`), each distinct input once; the first layer's error when none gives one."""
    first = _first_layer(model)
    if first is None:
        raise AuditError("the model has no parameters to probe")
    if shape is None and has_lazy_parameters(first):  # it takes any size: no other layer says which
        raise AuditError(f"the model starts with {class_name(first)}, whose input size only a first forward "
                         "pass sets; pass --input-shape or --example-inputs")
    failure: AuditError | None = None
    seen: set[tuple[Any, ...]] = set()
    for name, layer in _entry_layers(model, first):
        try:
            example = _from_layer(layer, shape, generator)
        except AuditError as error:
            failure = failure or error
            continue
        if layer is not first and shape is None:
            example.origin = f"input of {name}"
        key = _signature(example)
        if key not in seen:
            seen.add(key)
            yield example
        if len(seen) > OTHER_ENTRY_LAYERS:
            return
    if not seen:
        raise failure or AuditError("the model has no parameters to probe")


def _entry_layers(model: torch.nn.Module, first: torch.nn.Module) -> Iterator[tuple[str, torch.nn.Module]]:
    """``first``, then every other leaf layer that can take a raw input (a lookup table, a Linear,
    a convolution, a recurrent layer), in registration order; lazy ones excluded."""
    yield "", first
    for name, module in model.named_modules():
        if module is first or any(True for _ in module.children()) or has_lazy_parameters(module):
            continue
        if isinstance(module, _ENTRY_TYPES) or class_name(module) in knowledge.TRANSPOSED_DENSE_LAYERS:
            yield name, module


_ENTRY_TYPES = (torch.nn.Embedding, torch.nn.EmbeddingBag, torch.nn.Linear, torch.nn.modules.conv._ConvNd,
                torch.nn.RNNBase)


def _signature(example: Example) -> tuple[Any, ...]:
    values = [*example.args, *example.kwargs.values()]
    return tuple((tuple(v.shape), v.dtype) if isinstance(v, torch.Tensor) else type(v) for v in values)


def _from_layer(first: torch.nn.Module, shape: tuple[int, ...] | None, generator: torch.Generator) -> Example:
    """The input ``first`` takes as the model's first layer."""
    origin = "--input-shape" if shape is not None else "first layer"
    dtype = next(first.parameters()).dtype
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
