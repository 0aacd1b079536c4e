"""Checkpoint directories that carry their architecture: a Hugging Face ``config.json``
(transformers), a timm hub ``config.json`` (``architecture``) or a diffusers one
(``_class_name``). The model is built by the installed library from the config alone, with its
parameters on the meta device, then the checkpoint's tensors are assigned to it. Nothing in the
directory is ever run: configs naming custom code (``auto_map``, a class the library lacks) are
not built, and the report says so.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any, Callable, Iterator

import torch

from initaudit.audit.errors import AuditError, first_line

CONFIG = "config.json"
PIPELINE_INDEX = "model_index.json"


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


def build(directory: Path, notes: list[str]) -> torch.nn.Module | None:
    """The model ``directory/config.json`` describes, parameters on the meta device; None (with
    a note saying why) when the config names no architecture the installed libraries build."""
    config_path = directory / CONFIG
    if not config_path.is_file():
        return None
    try:
        config = json.loads(config_path.read_text())
    except (ValueError, OSError, RecursionError) as error:
        notes.append(f"{CONFIG} unreadable ({first_line(error)}); no model built from it")
        return None
    if not isinstance(config, dict):
        return None
    builder = _builder(config, directory, notes)
    if builder is None:
        return None
    try:
        with parameters_on_meta():
            return builder()
    except ImportError as error:
        notes.append(f"{CONFIG}: the library that builds this model cannot be imported ({first_line(error)})")
    except Exception as error:  # a config the installed library version does not understand
        notes.append(f"{CONFIG}: building the model failed ({type(error).__name__}: {first_line(error)})")
    return None


def _builder(config: dict[str, Any], directory: Path, notes: list[str]) -> Callable[[], torch.nn.Module] | None:
    if "auto_map" in config:
        notes.append(f"{CONFIG} names custom code (auto_map); initaudit never runs code from a checkpoint, "
                     "so no model was built")
        return None
    if isinstance(config.get("_class_name"), str):
        return _diffusers(config)
    if isinstance(config.get("architecture"), str):
        return _timm(config)
    if isinstance(config.get("model_type"), str):
        return _transformers(directory, config)
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


def _timm(config: dict[str, Any]) -> Callable[[], torch.nn.Module]:
    def make() -> torch.nn.Module:
        import timm

        architecture = config["architecture"]
        if not timm.is_model(architecture):
            raise ImportError(f"timm has no architecture {architecture}")
        args = dict(config.get("model_args") or {})
        for key in ("num_classes", "global_pool", "in_chans"):
            if key in config and key not in args:
                args[key] = config[key]
        return timm.create_model(architecture, pretrained=False, **args)
    return make


def _transformers(directory: Path, config: dict[str, Any]) -> Callable[[], torch.nn.Module]:
    def make() -> torch.nn.Module:
        import transformers

        loaded = transformers.AutoConfig.from_pretrained(str(directory), trust_remote_code=False,
                                                         local_files_only=True)
        for name in config.get("architectures") or []:
            cls = getattr(transformers, str(name), None)
            if isinstance(cls, type) and issubclass(cls, transformers.PreTrainedModel):
                return cls._from_config(loaded)
        return transformers.AutoModel.from_config(loaded, trust_remote_code=False)
    return make


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
           where: str) -> list[str]:
    """Give ``module`` the checkpoint's tensors (``assign``: no copy into meta storage), tie what
    the model ties, and return notes; a parameter the checkpoint lacks is an AuditError."""
    from initaudit.audit.sources import tied_names

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
    notes = []
    if unexpected:
        notes.append(f"not audited, not in the model its config describes: {', '.join(unexpected[:5])}"
                     f"{f' and {len(unexpected) - 5} more' if len(unexpected) > 5 else ''}")
    return notes


def _is_meta(module: torch.nn.Module, name: str) -> bool:
    owner, _, leaf = name.rpartition(".")
    tensor = getattr(module.get_submodule(owner), leaf, None)
    return isinstance(tensor, torch.Tensor) and tensor.is_meta
