"""The settings ``initaudit server`` checks each document with: those ``initaudit check`` would
use for it inside the workspace, the defaults outside. They are looked up once per directory
and kept until a settings file changes (:meth:`Settings.changed`) or the workspace does.

Settings that cannot be read (a broken ``[tool.initaudit]``) are reported once through the
callback the server gives, and the documents of that directory keep the settings last read there
(the defaults when there were none).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Callable

from initaudit.config import Config, load_config
from initaudit.settings_files import CONFIG_NAMES

log = logging.getLogger(__name__)


class Settings:
    def __init__(self, roots: Callable[[], list[str]], report: Callable[[str], None]) -> None:
        self._roots = roots  # the workspace's folders, as paths
        self._report = report
        self._found: dict[str, Config] = {}
        self._good: dict[str, Config] = {}
        self._reported: set[str] = set()

    def of(self, path: str) -> Config:
        """The settings for the document at ``path``."""
        directory = os.path.dirname(path)
        config = self._found.get(directory)
        if config is None:
            config = self._found[directory] = self._load(path, directory)
        return config

    def _load(self, path: str, directory: str) -> Config:
        if not (os.path.isabs(path) and self._in_workspace(directory)):
            return Config()
        try:
            self._good[directory] = load_config(None, Path(path))
        except Exception as error:  # a bad settings file, or a directory the search cannot follow
            kept = self._good.get(directory)
            message = f"initaudit: {error}; checking with the {'last good' if kept else 'default'} settings"
            log.warning("%s", message)
            if str(error) not in self._reported:
                self._reported.add(str(error))
                self._report(message)
            return kept or Config()
        return self._good[directory]

    def _in_workspace(self, directory: str) -> bool:
        real = Path(os.path.realpath(directory))
        return any(real.is_relative_to(os.path.realpath(root)) for root in self._roots())

    def is_settings_file(self, path: str) -> bool:
        """Whether a change to the file at ``path`` can change some document's settings."""
        if Path(path).name in CONFIG_NAMES:
            return True
        real = Path(os.path.realpath(path))
        return any(real == config.source or real in config.bases for config in self._found.values())

    def changed(self) -> None:
        """Forget every lookup: a settings file or the workspace changed. A file still broken is
        reported again."""
        self._found.clear()
        self._reported.clear()
