"""Checkpoint directories that carry their architecture: a Hugging Face ``config.json``
(transformers), a timm hub ``config.json`` (``architecture``) or a diffusers one
(``_class_name``). The model is built by the installed library from the config alone, with its
parameters on the meta device, then the checkpoint's tensors are assigned to it. Nothing in the
directory is ever run: configs naming custom code (``auto_map``, a class the library lacks) are
not built, and the report says so. The build is offline and reads nothing outside the directory
and the installed Python (``confine.py``); arguments that would make a library load weights are
removed, and a backbone named by hub repository or path is refused.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
from pathlib import Path
from typing import Any, Callable, Iterator

import torch

from initaudit.auditor.errors import AuditError, first_line
from initaudit.auditor.load.confine import confined
from initaudit.auditor.load.source import tied_names
from initaudit.auditor.notes import Note, NoteKind

CONFIG = "config.json"
PIPELINE_INDEX = "model_index.json"
#: A config may describe this many times the bytes of its checkpoint's weight files (fp16 or 8-bit
#: weights built as fp32, buffers the checkpoint does not hold), or this many bytes, at most.
BUILD_FACTOR = 4
BUILD_FLOOR = 256 << 20
#: timm arguments that load weights after the build, and the pretrained_cfg fields that say where
#: from; the model is built, never loaded, so they are removed.
_TIMM_LOADING = ("pretrained", "checkpoint_path", "cache_dir")
_CFG_LOADING = ("url", "file", "state_dict", "hf_hub_id", "hf_hub_filename", "source", "custom_load")
#: A backbone name with these is a hub repository (``hf-hub:org/name``, ``org/name``) or a path.
_FETCHED = re.compile(r"[:/\\]")


def pipeline_components(directory: Path) -> list[str] | None:
    """The component folders of a diffusers pipeline directory, or None for anything else."""
    index = directory / PIPELINE_INDEX
    if not index.is_file() or (directory / CONFIG).is_file():
        return None
    try:
        entries = json.loads(index.read_text())
    except (ValueError, OSError, RecursionError):
        return []
    return sorted(name for name, value in entries.items()
                  if isinstance(value, list) and (directory / name).is_dir())


def build(directory: Path, notes: list[Note], stored_bytes: int) -> torch.nn.Module | None:
    """The model ``directory/config.json`` describes, parameters on the meta device; None (with
    a note saying why) when the config names no architecture the installed libraries build, or
    one far larger than the ``stored_bytes`` of weights the directory holds."""
    config_path = directory / CONFIG
    if not config_path.is_file():
        return None
    module, failure = None, ""
    with confined(directory) as guard:  # config.json itself may be a link leading out
        try:
            config = json.loads(config_path.read_text())
        except (ValueError, OSError, RecursionError) as error:
            notes.append(Note(NoteKind.CONFIG_UNREADABLE,
                              f"{CONFIG} unreadable ({first_line(error)}); no model built from it"))
            return None
        make = _builder(config, directory, notes) if isinstance(config, dict) else None
        if make is None:
            return None
        try:
            failure = _oversized(make, stored_bytes)
            if not failure:
                with parameters_on_meta():
                    module = make()
        except ImportError as error:
            failure = f"{CONFIG}: the library that builds this model cannot be imported ({first_line(error)})"
        except Exception as error:  # a config the installed library version does not understand
            failure = f"{CONFIG}: building the model failed ({type(error).__name__}: {first_line(error)})"
    if guard.refused:  # the library may have caught the refusal and gone on another way
        failure = f"{CONFIG}: building the model failed ({guard.refused[0]})"
    if failure:
        notes.append(Note(NoteKind.CONFIG_NOT_BUILT, failure))
        return None
    return module


def _oversized(make: Callable[[], torch.nn.Module], stored_bytes: int) -> str:
    """Why the model a config describes is not built for real ("" when it may be): its size,
    found by building it once with every tensor on the meta device, against the weights on disk.
    A 609-byte config.json naming 40 million positions would otherwise allocate their buffers
    (1.3 GB) before the checkpoint's tensors are looked at."""
    try:
        with torch.device("meta"):
            sized = make()
    except ImportError:
        raise
    except Exception:  # a model that cannot be built on meta: built as it is, assign() checks it
        return ""
    described = sum(t.numel() * t.element_size() for t in itertools.chain(sized.parameters(), sized.buffers()))
    allowed = max(BUILD_FLOOR, BUILD_FACTOR * stored_bytes)
    if described <= allowed:
        return ""
    return (f"{CONFIG} describes a model of {described / (1 << 20):.0f} MiB of tensors, beyond what the "
            f"{stored_bytes / (1 << 20):.1f} MiB of weights here can fill; not built")


def _builder(config: dict[str, Any], directory: Path, notes: list[Note]) -> Callable[[], torch.nn.Module] | None:
    if "auto_map" in config:
        notes.append(Note(NoteKind.CONFIG_REFUSED, f"{CONFIG} names custom code (auto_map); initaudit never runs "
                          "code from a checkpoint, so no model was built"))
        return None
    if isinstance(config.get("_class_name"), str):
        return _diffusers(config)
    if isinstance(config.get("architecture"), str):
        return _timm(config, notes)
    if isinstance(config.get("model_type"), str):
        fetched = _fetched_backbone(config)
        if fetched is not None:
            notes.append(Note(NoteKind.CONFIG_REFUSED, f"{CONFIG} names the backbone {fetched} by hub repository "
                              "or path; the model is built offline from the directory alone, so no model was built"))
            return None
        return _transformers(directory, config, notes)
    return None


def _diffusers(config: dict[str, Any]) -> Callable[[], torch.nn.Module]:
    name = config["_class_name"]

    def make() -> torch.nn.Module:
        import diffusers

        cls = getattr(diffusers, name, None)
        if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
            raise ImportError(f"diffusers has no model class {name} (custom code is never run)")
        return cls.from_config({k: v for k, v in config.items() if not k.startswith("_")})
    return make


def _timm(config: dict[str, Any], notes: list[Note]) -> Callable[[], torch.nn.Module]:
    model_args = config.get("model_args")
    args = _without_weights(model_args if isinstance(model_args, dict) else {}, notes)
    for key in ("num_classes", "global_pool", "in_chans"):
        if key in config and key not in args:
            args[key] = config[key]

    def make() -> torch.nn.Module:
        import timm

        architecture = config["architecture"]
        if not timm.is_model(architecture):
            raise ImportError(f"timm has no architecture {architecture}")
        return timm.create_model(architecture, pretrained=False, **args)
    return make


def _without_weights(args: dict[str, Any], notes: list[Note]) -> dict[str, Any]:
    """timm's ``model_args`` less what would load weights, with a note naming what was removed."""
    kept = {key: value for key, value in args.items() if key not in _TIMM_LOADING}
    removed = [key for key in args if key in _TIMM_LOADING]
    for key in ("pretrained_cfg", "pretrained_cfg_overlay"):
        cfg = kept.get(key)
        if isinstance(cfg, dict):
            kept[key] = {field: value for field, value in cfg.items() if field not in _CFG_LOADING}
            removed += [f"{key}.{field}" for field in cfg if field in _CFG_LOADING]
    if removed:
        notes.append(Note(NoteKind.CONFIG_IGNORED, f"{CONFIG}: ignored model_args {', '.join(removed)} (the model "
                          "is built, never loaded from other weights)"))
    return kept


def _fetched_backbone(config: dict[str, Any]) -> str | None:
    """A backbone named by hub repository or path where no ``backbone_config`` describes it: the
    library would fetch it. Walked without recursion: the JSON may nest deeper than the stack."""
    stack: list[Any] = [config]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            name = value.get("backbone")
            if isinstance(name, str) and _FETCHED.search(name) and value.get("backbone_config") is None:
                return name
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return None


def _transformers(directory: Path, config: dict[str, Any], notes: list[Note]) -> Callable[[], torch.nn.Module]:
    def make() -> torch.nn.Module:
        import transformers

        loaded = transformers.AutoConfig.from_pretrained(str(directory), trust_remote_code=False,
                                                         local_files_only=True)
        _built_not_loaded(loaded, notes)
        for name in config.get("architectures") or []:
            cls = getattr(transformers, str(name), None)
            if isinstance(cls, type) and issubclass(cls, transformers.PreTrainedModel):
                return cls._from_config(loaded)
        return transformers.AutoModel.from_config(loaded, trust_remote_code=False)
    return make


def _built_not_loaded(config: Any, notes: list[Note]) -> None:
    """Switch off pretrained backbones (transformers 4 loads them when a model is built) and
    remove the timm arguments that load weights (``timm_wrapper``), in the config and its parts."""
    from transformers import PretrainedConfig

    stack: list[Any] = [config]
    seen: set[int] = set()
    while stack:
        part = stack.pop()
        if id(part) in seen:
            continue
        seen.add(id(part))
        if getattr(part, "use_pretrained_backbone", False):
            part.use_pretrained_backbone = False
            notes.append(Note(NoteKind.CONFIG_IGNORED,
                              f"{CONFIG}: use_pretrained_backbone ignored (the backbone is built, never loaded)"))
        if isinstance(getattr(part, "model_args", None), dict):
            part.model_args = _without_weights(part.model_args, notes)
        stack.extend(value for value in vars(part).values() if isinstance(value, PretrainedConfig))


@contextlib.contextmanager
def parameters_on_meta() -> Iterator[None]:
    """Modules built inside get their parameters on the meta device (no memory, no init cost)
    while buffers computed at construction (rotary frequencies, position ids) stay real."""
    original = torch.nn.Module.register_parameter

    def register(module: torch.nn.Module, name: str, parameter: torch.nn.Parameter | None) -> None:
        original(module, name, parameter)
        if parameter is not None and not parameter.is_meta:
            kind = type(parameter)
            module._parameters[name] = kind(parameter.to("meta"), requires_grad=parameter.requires_grad)

    torch.nn.Module.register_parameter = register  # type: ignore[method-assign]
    try:
        yield
    finally:
        torch.nn.Module.register_parameter = original  # type: ignore[method-assign]


def assign(module: torch.nn.Module, names: list[str], load: Callable[[str], torch.Tensor],
           where: str) -> list[Note]:
    """Give ``module`` the checkpoint's tensors (``assign``: no copy into meta storage), tie what
    the model ties, and return notes; a parameter the checkpoint lacks is an AuditError."""
    tied = tied_names(module)
    owned = dict(module.named_parameters(remove_duplicate=False)) | dict(module.named_buffers())
    state = {name: load(name) for name in names if name in owned}
    unexpected = [name for name in names if name not in owned]
    missing = module.load_state_dict(state, strict=False, assign=True).missing_keys
    for alias, first in tied.items():
        source_name = first if first in state else alias if alias in state else None
        if source_name is not None:
            loaded = module.get_parameter(source_name)
            for name in (first, alias):
                owner, _, leaf = name.rpartition(".")
                setattr(module.get_submodule(owner), leaf, loaded)
    lacking = [name for name in missing if _is_meta(module, name)]
    if lacking:
        raise AuditError(f"{where}: the checkpoint lacks {', '.join(lacking[:5])}"
                         f"{f' and {len(lacking) - 5} more' if len(lacking) > 5 else ''}, "
                         "which the model its config describes has")
    notes: list[Note] = []
    if unexpected:
        more = f" and {len(unexpected) - 5} more" if len(unexpected) > 5 else ""
        notes.append(Note(NoteKind.TENSORS_NOT_AUDITED,
                          f"not audited, not in the model its config describes: {', '.join(unexpected[:5])}{more}"))
    return notes


def _is_meta(module: torch.nn.Module, name: str) -> bool:
    owner, _, leaf = name.rpartition(".")
    tensor = getattr(module.get_submodule(owner), leaf, None)
    return isinstance(tensor, torch.Tensor) and tensor.is_meta
