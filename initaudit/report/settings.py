"""``check --show-settings``: the settings a run would use, and where they came from."""

from __future__ import annotations

import json
from pathlib import Path

from initaudit.config import DEFAULT_EXCLUDES, Config


def settings_dict(config: Config, cache_dir: Path | None) -> dict[str, object]:
    return {
        "settings-file": None if config.source is None else str(config.source),
        "extends": [str(base) for base in config.bases],
        "root": str(config.root),
        "select": list(config.select),
        "extend-select": list(config.extend_select),
        "ignore": list(config.ignore),
        "per-file-ignores": {pattern: list(codes) for pattern, codes in config.per_file_ignores},
        "exclude": list(config.exclude),
        "extend-exclude": list(config.extend_exclude),
        "default-exclude": list(DEFAULT_EXCLUDES),
        "force-exclude": config.force_exclude,
        "respect-gitignore": config.respect_gitignore,
        "fix": config.fix,
        "unsafe-fixes": config.unsafe_fixes,
        "extension": dict(config.extension),
        "cache-dir": None if cache_dir is None else str(cache_dir),
    }


def render_settings(config: Config, cache_dir: Path | None, as_json: bool = False) -> str:
    settings = settings_dict(config, cache_dir)
    if as_json:
        return json.dumps(settings, indent=2)
    # One `key = value` line each, the value written as JSON.
    return "\n".join(f"{key} = {json.dumps(value)}" for key, value in settings.items())
