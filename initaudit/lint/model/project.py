"""The project a checked file belongs to: its imports of other project files, resolved to the
classes and functions those files define.

A project is the checked trees plus the root found above them (``roots.py``: pyproject.toml,
setup.cfg or .git). ``from .blocks import Block``, ``from pkg.blocks import Block`` (from the
root, its ``src/`` or the parent of the file's top package), ``blocks.Block`` through an imported
module and, for a script outside any package, ``from layers import mlp`` (a sibling module or one
of a directory the script puts on ``sys.path``, ``search_path.py``) name project files;
everything else, installed packages included, stays unknown. Imported files are
read, never reported on, and each one is modelled once per process (as far as its importers
need: ``slices.py``); every file an analysis read is recorded so that a cached result can be
checked against them. Nothing is read through a symbolic link that leaves the roots
(``roots.read_project_file``).
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import libcst as cst

from initaudit import knowledge
from initaudit.lint.files.prefilter import initialising_code, without_strings
from initaudit.lint.files.roots import read_project_file, real_roots
from initaudit.lint.model.bounds import IMPORT_DEPTH, PROJECT_LAYERS, Budget
from initaudit.lint.model.builders import BuilderSummary
from initaudit.lint.model.facts import ModuleClass
from initaudit.lint.model.file_model import FileModel
from initaudit.lint.model.modules import (INHERITED_KINDS, Submodule, parameter_names, receiver_root, target_names,
                                          torch_nn_class)
from initaudit.lint.model.names import outside_origin
from initaudit.lint.model.search_path import added_directories
from initaudit.lint.parse.indentation import ExpandedColumns
from initaudit.lint.parse.nesting import shallow_text
from initaudit.lint.parse.slices import Definition, definitions, slice_text
from initaudit.lint.parse.tree import parse_module

#: Directories below a project root that hold other people's code or build products.
_FOREIGN_DIRS = frozenset({"site-packages", "dist-packages", "node_modules", "__pypackages__",
                           "venv", "env", "build", "dist"})
#: ``from`` and ``import`` statements, each a match only where it starts its line (checked after
#: the match: a pattern that starts with its keyword is scanned for several times faster).
_FROM_IMPORT = re.compile(r"from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n;#]*)")
#: A name called or passed as an argument: ``init_weights(``, ``apply(weights_init)``.
_CALLED_OR_PASSED = re.compile(r"(?<![\w.])(\w+)\s*[(),]")
#: A module's ``__all__`` list or tuple, and the quoted names in it.
_ALL = re.compile(r"^__all__\s*(?::[^=\n]*)?=\s*[\[(]([^\])]*)[\])]", re.MULTILINE)
_QUOTED = re.compile(r"""['"](\w+)['"]""")
#: What may not precede a name: it would be part of a longer one, or an attribute.
_IN_NAME = re.compile(r"[\w.]")
_ALIAS = re.compile(r"^(\w+)(?:\s+as\s+(\w+))?$")
_IMPORT = re.compile(r"import[ \t]+([^\n;#]*)")
_MODULE_ALIAS_NAME = re.compile(r"^([\w.]+)(?:\s+as\s+(\w+))?$")
#: Imported files a process keeps modelled: enough for a project's shared blocks and helpers,
#: few enough that a run over a large library stays within a few hundred MiB per worker (the
#: layers their classes composed stay within ``bounds.PROJECT_LAYERS`` too).
_MAX_MODELS = 48
#: How many re-exports (``from .blocks import Block`` in an ``__init__.py``) a name is followed.
_MAX_REEXPORTS = 4
#: How many files a class is followed through functions that build it (``make_net()``) to a
#: module class of the project.
_MAX_FACTORY_FILES = 3
#: ``class Name`` or ``def Name`` at any indentation: what a file's text defines.
_DEFINITION = re.compile(r"^[ \t]*(class|def)[ \t]+(\w+)", re.MULTILINE)
#: What makes a class an nn.Module class in its statement: a ``forward`` method.
_FORWARD = re.compile(r"^[ \t]+(?:async[ \t]+)?def[ \t]+forward\b", re.MULTILINE)
#: ``... import Module as M``: a name that stands for a module base class.
_MODULE_ALIAS = re.compile(r"Module[ \t]+as[ \t]+(\w+)")
#: A name called: ``Conv1d(``.
_CALLED = re.compile(r"(?<![\w.])(\w+)[ \t]*\(")
#: A name called, or one whose attribute is: ``Block(``, ``Block.from_config(``.
_CALLED_OR_ATTRIBUTE = re.compile(r"(?<![\w.])(\w+)[ \t]*(?:\(|\.[ \t]*\w+[ \t]*\()")
#: A call of a capitalised name (a class, as a factory builds one), by its last name.
_CLASS_CALL = re.compile(r"(?<![\w.])(?:\w+\.)*([A-Z]\w*)[ \t]*\(")
#: What a factory returns: a call, or a name.
_RETURNED = re.compile(r"\breturn[ \t]+(?:(?:\w+\.)*(\w+)[ \t]*\(|(\w+)[ \t]*$)", re.MULTILINE)
#: Modules a factory may build: weight layers, norms and containers of torch.
_LAYER_CLASSES = knowledge.WEIGHT_LAYERS | knowledge.NORM_LAYERS | knowledge.CONTAINER_MODULES
#: Words without which code holds no model to initialise: modules, layers, parameters, weights,
#: trainable tensors, and the traversals of a model (as methods: a variable may be ``parameters``).
_NAMES_MODEL = re.compile(r"\b(?:nn|Module|Parameter|Variable|requires_grad_?|state_dict|register_parameter"
                          r"|\w*(?:weight|bias)\w*|"
                          + "|".join(sorted(knowledge.WEIGHT_LAYERS | knowledge.NORM_LAYERS)) + r")\b"
                          r"|\.[ \t]*(?:apply|(?:named_)?(?:parameters|modules|children))[ \t]*\(")
#: A ``return`` of several items: a comma on its line, or a bracket opening one.
_RETURNS_ITEMS = re.compile(r"^[ \t]+return\b[^\n#]*[,(\[]", re.MULTILINE)
#: A call handing the caller's own module or one of its attributes first (``init(self.conv)``).
_HANDED_SELF = re.compile(r"(?<![\w.])(\w+)[ \t]*\([ \t]*self\b")
#: A name handed to ``apply``, which calls it: ``net.apply(init_fn)``, ``.apply(partial(init_fn``.
_APPLIED = re.compile(r"\.apply[ \t]*\([ \t]*(?:[\w.]*partial[ \t]*\([ \t]*)?(\w+)")


@dataclass(frozen=True)
class Binding:
    """A name a file imports from a project file: the file and the name there."""

    path: Path
    name: str


@dataclass(frozen=True)
class Imported:
    """What a project name turned out to be, and the model of the file that defines it."""

    model: FileModel
    name: str


class Project:
    """Resolves imports inside the project and models imported files, once each per process."""

    def __init__(self, roots: tuple[str, ...]) -> None:
        self.roots = tuple(Path(root) for root in roots)
        self._real_roots = real_roots(roots)
        self._texts: dict[Path, str | None] = {}
        self._digests: dict[Path, str] = {}
        #: Most recently used last; at most ``_MAX_MODELS`` (a model read again is rebuilt).
        self._models: OrderedDict[Path, FileModel | None] = OrderedDict()
        #: The layers each kept model composed.
        self._weights: dict[Path, int] = {}
        #: What the models built for the file being checked may still compose (``bounds.py``).
        self.layers = Budget(PROJECT_LAYERS, reason="project")
        self._imports: dict[Path, dict[str, Import]] = {}
        self._resolved: dict[tuple[Path, Import], Binding | None] = {}
        self._module_files: dict[tuple[Path, str], Path | None] = {}
        self._listings: dict[Path, tuple[frozenset[str], frozenset[str]]] = {}
        self._modules_named: dict[tuple[Path, int, str], Path | None] = {}
        self._bases: dict[Path, list[Path]] = {}
        self._searched: dict[Path, list[Path]] = {}  # by importer: ``_bases`` and its ``sys.path``
        self._defined: dict[Path, frozenset[tuple[str, str]]] = {}
        self._initialising: dict[Binding, bool] = {}
        self._initialiser: dict[Binding, bool] = {}
        self._naming_init: dict[Path, bool] = {}
        self._provides: dict[tuple[Binding, str], bool] = {}
        self._building: set[Path] = set()
        #: The names of the definitions each model's slice kept (None: the whole file).
        self._covered: dict[Path, frozenset[str] | None] = {}
        self._definitions_of: dict[Path, list[Definition]] = {}
        self._all: dict[Path, frozenset[str] | None] = {}  # each module's ``__all__``
        #: By project file: the files that import and call a name of it, with the name (None: not
        #: listed yet; the project's files are listed once, when first asked).
        self._callers: dict[Path, list[tuple[Path, str]]] | None = None

    # ------------------------------------------------------------ files of the project

    def contains(self, path: Path) -> bool:
        for root in self.roots:
            try:
                inside = path.relative_to(root).parts[:-1]
            except ValueError:
                continue
            if not any(part in _FOREIGN_DIRS or part.startswith(".") for part in inside):
                return True
        return False

    def display(self, path: Path) -> str:
        """``pkg/blocks.py``: relative to the outermost root holding it."""
        for root in sorted(self.roots, key=lambda r: len(r.parts)):
            try:
                return path.relative_to(root).as_posix()
            except ValueError:
                continue
        return path.as_posix()

    def text(self, path: Path) -> str | None:
        if path not in self._texts:
            from initaudit.lint.files.reader import read_source
            from initaudit.lint.files.source import SourceError

            self._texts[path] = None
            data = read_project_file(path, self._real_roots)
            if data is not None:
                try:
                    self._texts[path] = read_source(str(path), data).text
                    self._digests[path] = hashlib.sha256(data).hexdigest()
                except (SourceError, ValueError):
                    pass  # undecodable: unknown
        return self._texts[path]

    def digest(self, path: Path) -> str | None:
        return self._digests.get(path) if self.text(path) is not None else None

    def _module_file(self, base: Path, dotted: str) -> Path | None:
        key = (base, dotted)
        if key not in self._module_files:
            self._module_files[key] = next((candidate for candidate in self._module_candidates(base, dotted)
                                            if self.contains(candidate)), None)
        return self._module_files[key]

    def _module_candidates(self, base: Path, dotted: str) -> Iterator[Path]:
        """``<base>/<dotted as a path>.py`` and ``.../__init__.py``, those that are files; each
        directory is listed once, so that most names (another package's, a module's attribute)
        are ruled out without asking the file system."""
        directory, *inner, last = [base, *dotted.split(".")] if dotted else [base.parent, base.name]
        for part in inner:
            if part not in self._listing(directory)[1]:
                return
            directory = directory / part
        files, directories = self._listing(directory)
        if last + ".py" in files:
            yield directory / (last + ".py")
        if last in directories and "__init__.py" in self._listing(directory / last)[0]:
            yield directory / last / "__init__.py"

    def _listing(self, directory: Path) -> tuple[frozenset[str], frozenset[str]]:
        """The names of the files and of the directories in ``directory`` (links followed)."""
        found = self._listings.get(directory)
        if found is None:
            try:
                with os.scandir(directory) as listed:
                    entries = list(listed)
            except OSError:
                entries = []  # missing or unreadable: no modules there
            found = self._listings[directory] = (frozenset(entry.name for entry in entries if _is(entry.is_file)),
                                                 frozenset(entry.name for entry in entries if _is(entry.is_dir)))
        return found

    def resolve(self, importer: Path, level: int, dotted: str) -> Path | None:
        """The project file ``from <level dots><dotted> import ...`` in ``importer`` names."""
        if level:
            base = importer.parent
            for _ in range(level - 1):
                base = base.parent
            return self._module_file(base, dotted)
        if not dotted:
            return None
        for base in self._absolute_bases(importer):
            found = self._module_file(base, dotted)
            if found is not None:
                return found
        return None

    def _absolute_bases(self, importer: Path) -> list[Path]:
        found = self._searched.get(importer)
        if found is None:
            directory = importer.parent
            if directory not in self._bases:
                self._bases[directory] = self._bases_of(directory)
            # Where the importer's code puts directories on ``sys.path``: those first or last.
            inserted, appended = added_directories(importer, self.text(importer) or "")
            found = self._searched[importer] = [*inserted, *self._bases[directory], *appended]
        return found

    def _bases_of(self, directory: Path) -> list[Path]:
        top = directory
        while (top / "__init__.py").is_file():
            top = top.parent
        bases = [top] if top != directory else [directory]  # a script's siblings
        for root in self.roots:
            bases.extend((root, root / "src"))
        if top != directory:
            bases.append(directory)  # last: a package directory run with itself on the path
        return bases

    def block_users(self, path: Path) -> list[Path]:
        """The project files through which module classes of the project build a class of
        ``path``: a file importing one by name (``from .blocks import Block``) and calling it
        (``Block(...)``, ``Block.from_config(...)``) that has a ``forward``, or whose functions
        that another such file calls return what they build (``make_net()``), a few files deep."""
        return self._users_of(path, "class", _MAX_FACTORY_FILES, {path})

    def holds_directly(self, path: Path, name: str) -> bool:
        """Whether a file with a ``forward`` imports the class ``name`` of ``path`` and calls it."""
        return any(found == name and _FORWARD.search(self.text(user) or "") is not None
                   for user, found in self._importers().get(path, []))

    def _users_of(self, path: Path, keyword: str | None, depth: int, seen: set[Path]) -> list[Path]:
        for user, name in self._importers().get(path, []):
            if user in seen or (keyword is not None
                                and (keyword, name) not in self._definitions(path, self.text(path) or "")):
                continue
            seen.add(user)
            if _FORWARD.search(self.text(user) or "") is not None:
                return [user]
            further = self._users_of(user, None, depth - 1, seen) if depth else []
            if further:
                return [user, *further]
        return []

    def _importers(self) -> dict[Path, list[tuple[Path, str]]]:
        """By project file: the files that import a name of it and call it, with that name."""
        if self._callers is None:
            self._callers = {}
            for user in self._python_files():
                text = self.text(user)
                if text is None:
                    continue
                called = set(_CALLED_OR_ATTRIBUTE.findall(without_strings(text)))
                for local, imported in self.imports(user).items():
                    found = self.resolve(user, imported.level, imported.module) \
                        if local in called and imported.name not in ("", "*") else None
                    if found is not None and found != user:
                        self._callers.setdefault(found, []).append((user, imported.name))
        return self._callers

    def _python_files(self) -> Iterator[Path]:
        """Every Python file under the roots, outside foreign and hidden directories."""
        for root in self.roots:
            for directory, subdirectories, files in os.walk(root):
                subdirectories[:] = sorted(d for d in subdirectories if d not in _FOREIGN_DIRS and not d.startswith("."))
                yield from (Path(directory) / name for name in sorted(files) if name.endswith(".py"))

    # ------------------------------------------------------------ names

    def imports(self, path: Path) -> dict[str, Import]:
        """Local name -> what the file's ``from ... import`` statements bind it to."""
        found = self._imports.get(path)
        if found is None:
            stored = self.text(path)
            found = self._imports[path] = {} if stored is None else _imports(without_strings(stored))
        return found

    def binding(self, importer: Path, imported: Import) -> Binding | None:
        """The project file and name an import names; None outside the project, or for a module
        (``from . import blocks``)."""
        key = (importer.parent, imported)
        if not imported.name:
            return None  # ``import pkg.blocks``: a module
        if key not in self._resolved:
            module = self.resolve(importer, imported.level, imported.module)
            if module is not None and module.name == "__init__.py" \
                    and self._module_file(module.parent, imported.name) is not None \
                    and not self._rebinds(module, imported.name):
                module = None
            self._resolved[key] = None if module is None else Binding(module, imported.name)
        return self._resolved[key]

    def _rebinds(self, package: Path, name: str) -> bool:
        """Whether a package's ``__init__.py`` binds ``name`` to something other than its submodule
        of that name (``from .weight_init import weight_init``, a ``def``): ``from package import
        name`` gives the package's attribute, which that binding replaced the submodule with."""
        imported = self.imports(package).get(name)
        if imported is not None:
            return self.resolve(package, imported.level, imported.dotted) != self._module_file(package.parent, name)
        defined = re.compile(rf"^(?:class|def)[ \t]+{re.escape(name)}\b", re.MULTILINE)
        return defined.search(self.text(package) or "") is not None

    def attribute_binding(self, importer: Path, imported: Import, attribute: str) -> Binding | None:
        """The project file and name of ``blocks.Block`` (``from . import blocks``), ``b.Block``
        (``import pkg.blocks as b``) or ``pkg.blocks.Block`` (``import pkg.blocks``): the module
        the import binds, then the attribute's path below it."""
        *inner, name = attribute.split(".")
        dotted = ".".join(part for part in (imported.module, imported.name, *inner) if part)
        key = (importer.parent, imported.level, dotted)
        if key not in self._modules_named:
            self._modules_named[key] = self.resolve(importer, imported.level, dotted)
        module = self._modules_named[key]
        return None if module is None else Binding(module, name)

    def model(self, path: Path, name: str) -> FileModel | None:
        """The model of a project file, parsed as far as ``name`` (and every name asked for
        before) needs (None when it cannot be read or parsed, while it is being built: an
        import cycle, or when :data:`IMPORT_DEPTH` files are being modelled one inside another)."""
        covered = self._covered.get(path, frozenset())
        if path in self._models and (covered is None or name in covered):
            self._models.move_to_end(path)
            return self._models[path]
        if path in self._building or self.too_deep():
            return None
        text = self.text(path)
        if text is None or not shallow_text(text):
            return None  # unreadable, or nested too deeply for the parser: unknown
        self._building.add(path)
        try:
            model, self._covered[path] = self._build(path, text, covered | {name})
        finally:
            self._building.discard(path)
        self._models[path] = model
        self._models.move_to_end(path)
        self._weights[path] = 0 if model is None else model.layers_used
        while len(self._models) > 1 and (len(self._models) > _MAX_MODELS
                                         or sum(self._weights.values()) > PROJECT_LAYERS):
            evicted, _ = self._models.popitem(last=False)
            self._covered.pop(evicted, None)
            self._weights.pop(evicted, None)
        return model

    def too_deep(self) -> bool:
        """Whether a file asked for now would be modelled :data:`IMPORT_DEPTH` files deep."""
        return len(self._building) >= IMPORT_DEPTH

    def _build(self, path: Path, text: str, names: frozenset[str]) -> tuple[FileModel | None, frozenset[str] | None]:
        """The model of the slice of the file that ``names`` need, or of the whole file (None:
        every name covered) when the slice is most of it or does not parse."""
        for part, covers in self._parts(path, text, names):
            try:
                module = parse_module(part)
            except Exception:
                continue  # a slice cut through a statement: parse the whole file
            try:
                return FileModel(module, part, Links(self, path), imported=True), covers
            except Exception:  # one that cannot be modelled stays unknown; checked itself, it says why
                return None, covers
        return None, None

    def _parts(self, path: Path, text: str, names: frozenset[str]) -> Iterator[tuple[str, frozenset[str] | None]]:
        """What to parse, in turn, until one parses: the slice, the whole text, and last the text
        with its indentation's tabs expanded (which libcst may reject where Python does not)."""
        sliced = slice_text(text, names, self._top_level(path, text))
        if sliced is not None:
            yield sliced
        yield text, None
        expanded = ExpandedColumns(text)
        if expanded.changed:
            yield expanded.text, None

    def definition(self, binding: Binding, keyword: str, read: set[Path]) -> Binding | None:
        """The binding of the file that defines the name with ``keyword`` (``class``, ``def``),
        found from the text through re-exports, so that only that file is modelled; ``read``
        gains the files read."""
        for _ in range(_MAX_REEXPORTS + 1):
            read.add(binding.path)
            text = self.text(binding.path)
            if text is None:
                return None
            if (keyword, binding.name) in self._definitions(binding.path, text):
                return binding
            imports = self.imports(binding.path)
            imported = imports.get(binding.name)
            further = self.binding(binding.path, imported) if imported is not None \
                else self.star_binding(binding.path, imports, binding.name)
            if further is None:
                return None
            binding = further
        return None

    def star_binding(self, importer: Path, imports: dict[str, Import], name: str) -> Binding | None:
        """``name`` as bound by the ``from <module> import *`` statements of ``importer`` that
        name project modules: the last one whose module exports it (the names its ``__all__``
        lists, or else every name not starting with an underscore)."""
        for imported in reversed([found for found in imports.values() if found.name == "*"]):
            module = self.resolve(importer, imported.level, imported.module)
            text = self.text(module) if module is not None else None
            if module is None or text is None:
                continue
            listed = self._exported(module, text)
            if name in listed if listed is not None else not name.startswith("_"):
                if any(defined == name for _, defined in self._definitions(module, text)) \
                        or name in self.imports(module):
                    return Binding(module, name)
        return None

    def star_origin(self, importer: Path, level: int, module: str, name: str, read: set[Path],
                    depth: int = 0) -> str | None:
        """The dotted name outside the project that ``from <level dots><module> import *`` in
        ``importer`` binds ``name`` to: what an import of that project module binds it to
        (``import torch.nn as nn`` there gives ``nn``), through its own star imports; for a
        module outside the project, its own name (None: a name the module defines, or unknown).
        ``read`` gains the files read."""
        path = self.resolve(importer, level, module)
        if path is None:
            return outside_origin(level, module, name)
        read.add(path)
        text = self.text(path)
        if text is None or depth >= _MAX_REEXPORTS:
            return None
        listed = self._exported(path, text)
        if (name not in listed if listed is not None else name.startswith("_")) \
                or any(defined == name for _, defined in self._definitions(path, text)):
            return None
        imports = self.imports(path)
        imported = imports.get(name)
        if imported is not None:
            outside = self.resolve(path, imported.level, imported.dotted) is None \
                and self.resolve(path, imported.level, imported.module) is None
            return imported.dotted if outside and not imported.level else None
        for star in reversed([found for found in imports.values() if found.name == "*"]):
            origin = self.star_origin(path, star.level, star.module, name, read, depth + 1)
            if origin is not None:
                return origin
        return None

    def _exported(self, path: Path, text: str) -> frozenset[str] | None:
        """The names a module's ``__all__`` lists (None without one)."""
        if path not in self._all:
            found = _ALL.search(text)
            self._all[path] = None if found is None else frozenset(_QUOTED.findall(found.group(1)))
        return self._all[path]

    def provides(self, found: Binding, keyword: str) -> bool | None:
        """Whether the name is what an importer uses: a module class (``class``) or a function
        with init operations of its own (``def``). Kept once known, so that a file is modelled
        again only for the importers that read its model; None while it cannot be known (an
        import cycle, or an import too deep to follow)."""
        key = (found, keyword)
        if key not in self._provides:
            if keyword == "def" and not self.may_initialise(found):
                self._provides[key] = False  # a function whose code names no init cannot initialise
            elif keyword == "class" and not self._may_be_module(found.path, found.name, set()):
                self._provides[key] = False
            else:
                model = self.model(found.path, found.name)
                if model is None and (found.path in self._building or self.too_deep()):
                    return None
                self._provides[key] = model is not None and _provided(model, found.name, keyword)
        return self._provides[key]

    def _may_be_module(self, path: Path, name: str, seen: set[str]) -> bool:
        """Cheaply, from the text of the file: the class can be an nn.Module class. It cannot when
        none of its statements at column 0 has a base ``Module`` (``nn.Module``) or an alias of it,
        a ``forward`` method, or a base class of the file that can be one."""
        text = self.text(path)
        if text is None or name in seen:
            return text is not None
        seen.add(name)
        top_level = self._top_level(path, text)
        classes = [d for d in top_level if d.keyword == "class" and d.name == name]
        if not classes:  # a nested class, whose extent is not read from the text, or none
            return ("class", name) in self._definitions(path, text)
        aliases = set(_MODULE_ALIAS.findall(text))
        if any("Module" in d.bases or d.bases & aliases or _FORWARD.search(text, d.body, d.end)
               or any(knowledge.layer_kind(word) in INHERITED_KINDS for word in d.bases) for d in classes):
            return True  # (a class deriving from a torch.nn layer is a module too)
        local = {d.name for d in top_level if d.keyword == "class"}
        return any(self._may_be_module(path, base, seen) for d in classes for base in d.bases & local)

    def _definitions(self, path: Path, text: str) -> frozenset[tuple[str, str]]:
        """``(keyword, name)`` of every ``class``/``def`` the file's text holds."""
        found = self._defined.get(path)
        if found is None:
            found = self._defined[path] = frozenset(_DEFINITION.findall(text))
        return found

    def may_be_initialiser(self, importer: Path, imported: Import) -> bool:
        """Cheaply, from text: what ``imported`` names in ``importer`` is a function or a class of
        a project file (through re-exports) that can initialise (a class: in its construction)."""
        binding = self.binding(importer, imported)
        return binding is not None and self.initialiser(binding)

    def initialiser(self, binding: Binding) -> bool:
        """Cheaply, from text: the function or class the binding names (through re-exports)
        can initialise (a class: in its construction)."""
        if binding not in self._initialiser:
            found = self._defining(binding)
            self._initialiser[binding] = found is not None and self.may_initialise(found)
        return self._initialiser[binding]

    def _defining(self, binding: Binding) -> Binding | None:
        """The function or class the binding names, where it is defined (through re-exports)."""
        return self.definition(binding, "def", set()) or self.definition(binding, "class", set())

    def may_initialise(self, binding: Binding) -> bool:
        """Cheaply, from text: the top-level function's code can hold an init operation (its
        text runs to the next statement at column 0)."""
        if binding not in self._initialising:
            self._initialising[binding] = self._may_initialise(binding)
        return self._initialising[binding]

    def _may_initialise(self, binding: Binding, depth: int = 0) -> bool:
        """(Also through the functions it calls, of its file or imported from another project
        file: a factory that returns what another one builds and initialises, ``return
        Conv1d(...)``, a block whose ``__init__`` calls ``init_xavier(self.conv)`` from utils.)"""
        text = self.text(binding.path)
        if text is None:
            return False
        names_init = self._names_init(binding.path, text)
        imports = self.imports(binding.path) if depth < 2 else {}
        if not names_init and not imports:
            return False
        top_level = self._top_level(binding.path, text)
        for found in top_level:
            if found.name != binding.name:
                continue
            code = text[found.start:found.end]
            if names_init and initialising_code(code):
                return True
            called = (set(_CALLED.findall(code)) | set(_APPLIED.findall(code))) - {binding.name}
            if names_init and depth < 2 and any(other.keyword == "def" and other.name in called
                                                and self._may_initialise(Binding(binding.path, other.name), depth + 1)
                                                for other in top_level):
                return True
            # An imported helper writes this code's weights only where it is handed them.
            handed = (set(_HANDED_SELF.findall(code)) | set(_APPLIED.findall(code))) & imports.keys()
            if any(self._imported_initialiser(binding.path, imports[name], depth + 1) for name in handed):
                return True
        return False

    def _imported_initialiser(self, importer: Path, imported: Import, depth: int) -> bool:
        """``initialiser`` for a name a file imports, followed ``depth`` calls deep."""
        binding = self.binding(importer, imported)
        found = None if binding is None else self._defining(binding)
        return found is not None and self._may_initialise(found, depth)

    def may_build_sequential(self, binding: Binding) -> bool:
        """Cheaply, from text: the top-level function can build and return a Sequential (a
        builder, ``lint/model/builders.py``)."""
        text = self.text(binding.path)
        return text is not None and any(
            found.keyword == "def" and found.name == binding.name and "Sequential" in text[found.start:found.end]
            for found in self._top_level(binding.path, text))

    def may_return_items(self, binding: Binding) -> bool:
        """Cheaply, from text: the top-level function returns several items (``return a, b``)."""
        text = self.text(binding.path)
        return text is not None and any(
            found.keyword == "def" and found.name == binding.name
            and _RETURNS_ITEMS.search(text, found.start, found.end) is not None
            for found in self._top_level(binding.path, text))

    def may_return_module(self, binding: Binding) -> bool:
        """Cheaply, from text: the top-level function can build a module and return it (calls a
        class, ``nn.Conv2d(...)``, and returns something)."""
        text = self.text(binding.path)
        if text is None:
            return False
        top_level = self._top_level(binding.path, text)
        # A torch layer or container, or a class of the file with a ``forward``: not any object.
        modules = _LAYER_CLASSES | {found.name for found in top_level if found.keyword == "class"
                                    and _FORWARD.search(text, found.start, found.end) is not None}
        for found in top_level:
            if found.keyword != "def" or found.name != binding.name:
                continue
            code = text[found.start:found.end]
            built = {name for name in _CLASS_CALL.findall(code) if name in modules}
            if built and any(called in built or (name and re.search(
                    rf"\b{name}[ \t]*=[ \t]*(?:\w+\.)*(?:{'|'.join(built)})[ \t]*\(", code))
                    for called, name in _RETURNED.findall(code)):
                return True
        return False

    def _names_init(self, path: Path, text: str) -> bool:
        """Whether the file's code can hold an init operation anywhere: when not, none of its
        functions is read (cheaper than finding its top-level statements)."""
        if path not in self._naming_init:
            self._naming_init[path] = initialising_code(text)
        return self._naming_init[path]

    def _top_level(self, path: Path, text: str) -> list[Definition]:
        """The top-level ``class`` and ``def`` statements of the file, found once."""
        if path not in self._definitions_of:
            self._definitions_of[path] = definitions(text)
        return self._definitions_of[path]

def _torch_layer_base(model: FileModel, owner: Any) -> str | None:
    """The torch.nn layer (norm, activation, dense, embedding) a class derives from first."""
    node = owner.node
    if not isinstance(node, cst.ClassDef) or not node.bases:
        return None
    base = torch_nn_class(model.names(node.bases[0].value))
    return base if base is not None and knowledge.layer_kind(base) in INHERITED_KINDS else None


def _provided(model: FileModel, name: str, keyword: str, depth: int = 0) -> bool:
    if keyword == "class":
        owner = model.classes.get(name)
        return owner is not None and (owner.is_module or _torch_layer_base(model, owner) is not None)
    function = model.functions.get(name)
    if function is not None and name in model.factory_modules:
        return True  # a function returning a module it builds (and may initialise)
    wrapped = [] if function is None or depth >= 2 else [  # calls of a wrapper of its file
        call for call in model.helper_calls if call.enclosing and call.enclosing[-1] is function
        and isinstance(call.function, cst.Name) and call.function.value != name]
    if wrapped:  # one handing its caller's tensor on to the wrapper
        derived = _derived_from_parameters(function)
        if any(_hands_on(derived, call.node) and _provided(model, call.function.value, keyword, depth + 1)
               for call in wrapped):
            return True
    if function is not None and any(  # ``net.apply(init_fn)`` on a module the caller passes
            call.owner.node is function and _from_parameter(function, call.receiver) for call in model.apply_calls):
        return True
    return function is not None and any(
        op.scope_node is function and _reaches_argument(function, op) for op in model.written_ops)


def _reaches_argument(function: cst.FunctionDef, op: Any) -> bool:
    """Whether the init operation writes what a caller passes: its target, or the iterable of
    a loop it runs in, is reached from a parameter of the function (``m.weight``,
    ``module.parameters()``). A helper that only fills tensors of its own (``y = torch.empty(n);
    y.normal_()``) initialises nothing of its caller's."""
    reached = [op.target_node, *(loop.iter for loop in op.loops)]
    return any(_from_parameter(function, node) for node in reached if node is not None)


def _hands_on(derived: set[str], call: cst.Call) -> bool:
    """Whether the call passes on what the function's caller gave it, or something reached from
    it (``derived``, :func:`_derived_from_parameters`; ``for p in m.modules(): init(p)``): a
    wrapper that fills a tensor the function makes itself (``result = torch.empty(n);
    _uniform_(result)``) writes nothing of the caller's."""
    return any(isinstance(root := receiver_root(argument.value), cst.Name) and root.value in derived
               for argument in call.args)


def _derived_from_parameters(function: cst.FunctionDef) -> set[str]:
    """The function's parameters and the names its loops and assignments bind from any of them
    (``for p in m.modules()``, ``layers = list(m.children())``; not ``y = torch.empty(n)``)."""
    derived = set(parameter_names(function))
    bindings: list[tuple[list[cst.BaseExpression], cst.BaseExpression]] = []
    pending: list[cst.CSTNode] = [function.body]
    while pending:
        node = pending.pop()
        if isinstance(node, cst.For):
            bindings.append(([node.target], node.iter))
        elif isinstance(node, cst.Assign):
            bindings.append(([t.target for t in node.targets], node.value))
        if not isinstance(node, cst.BaseExpression):
            pending.extend(node.children)
    for _ in range(3):  # a chain of rebinding, ``layers = m.modules(); for layer in layers``
        for targets, source in bindings:
            if any(root.value in derived for root in _roots(source)):
                derived |= target_names(list(targets))
    return derived


def _roots(expression: cst.BaseExpression) -> Iterator[cst.Name]:
    """The names a value is reached from: ``m`` of ``m.modules()``, each argument's of
    ``zip(a.modules(), b)`` or ``list(m.children())``, each element's of a tuple."""
    root = receiver_root(expression)
    if isinstance(root, cst.Name):
        yield root
    elif isinstance(root, cst.Call) and isinstance(root.func, cst.Name):
        for argument in root.args:
            yield from _roots(argument.value)
    elif isinstance(root, (cst.Tuple, cst.List)):
        for element in root.elements:
            yield from _roots(element.value)


def _from_parameter(function: cst.FunctionDef, node: cst.BaseExpression) -> bool:
    """Whether the expression is reached from a parameter of the function."""
    root = receiver_root(node)
    return isinstance(root, cst.Name) and root.value in set(parameter_names(function))


@dataclass(frozen=True)
class Import:
    """``from <level dots><module> import <name>``, or ``import <module>`` (``name`` empty)."""

    level: int
    module: str
    name: str

    @property
    def dotted(self) -> str:
        """The module the import names, or the one its name is when that is a module (``from .
        import blocks``)."""
        return ".".join(part for part in (self.module, self.name) if part)


def _imports(code: str) -> dict[str, Import]:
    """The imports of code (strings and comments blanked), by the local name they bind."""
    found = {}
    for module, local in _plain_imports(code):  # ``import a.b as x`` binds x to a.b; ``import a.b`` a to a
        top = module.partition(".")[0]
        found[local or top] = Import(0, module if local else top, "")
    for match in filter(_starts_line, _FROM_IMPORT.finditer(code)):
        for item in match.group(3).strip("() \t").replace("\n", " ").split(","):
            if item.strip() == "*":  # kept under a key no name can be: ``star_binding`` reads it
                found["*" + "." * len(match.group(1)) + match.group(2)] = Import(len(match.group(1)), match.group(2), "*")
                continue
            alias = _ALIAS.match(item.strip().rstrip("\\").strip())
            if alias is not None:
                found[alias.group(2) or alias.group(1)] = Import(
                    len(match.group(1)), match.group(2), alias.group(1))
    return found


def _plain_imports(code: str) -> Iterator[tuple[str, str | None]]:
    """(module, alias or None) of each ``import a.b [as x]`` item of code."""
    for match in filter(_starts_line, _IMPORT.finditer(code)):
        for item in match.group(1).split(","):
            alias = _MODULE_ALIAS_NAME.match(item.strip().rstrip("\\").strip())
            if alias is not None:
                yield alias.group(1), alias.group(2)


def _named_modules(code: str) -> set[str]:
    """The dotted modules that ``import a.b.c`` statements of code name (bound as ``a``)."""
    return {module for module, local in _plain_imports(code) if local is None}


def _dotted_uses(code: str, roots: frozenset[str]) -> Iterator[str]:
    """The dotted names below one of ``roots`` that code calls or passes: ``blocks.init_layer(``."""
    for match in _dotted_use(roots).finditer(code):
        if match.start() == 0 or not _IN_NAME.match(code, match.start() - 1):
            yield match.group(1)


@functools.lru_cache(maxsize=64)
def _dotted_use(roots: frozenset[str]) -> re.Pattern[str]:
    """The pattern of :func:`_dotted_uses`: starting with the roots' own letters, it is scanned for
    several times faster than any dotted name (what precedes a match is checked after it)."""
    names = "|".join(sorted(roots, key=len, reverse=True))
    return re.compile(rf"((?:{names})(?:\.\w+)+)\s*[(),]")


def _starts_line(match: re.Match[str]) -> bool:
    """Whether only blanks precede the match on its line."""
    code, start = match.string, match.start()
    return code[code.rfind("\n", 0, start) + 1:start].strip(" \t") == ""


@dataclass
class Links:
    """One file's view of the project: its imported names, resolved on first use, and every
    file read to resolve them."""

    project: Project
    path: Path
    #: The file's text when it is not the one on disk (being checked or fixed).
    text: str | None = None
    _resolved: dict[str, Imported | None] = field(default_factory=dict)
    _builders: dict[str, BuilderSummary | None] = field(default_factory=dict)
    _factories: dict[str, Submodule | None] = field(default_factory=dict)
    _read: set[Path] = field(default_factory=set)
    #: Files defining module classes this file builds, left unmodelled: too deep an import.
    unfollowed: list[Path] = field(default_factory=list, init=False)
    #: What the engine's analysis of the text records for the run about the applications of
    #: init operations (``lint/run/results.py:InitUse``); a copy for an edited text starts empty.
    uses: list[Any] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        #: The checked text's code, strings and comments blanked (None: the file on disk).
        self._code = None if self.text is None else without_strings(self.text)
        self._imports = self.project.imports(self.path) if self._code is None else _imports(self._code)
        if self.text is not None:  # a file being checked: the files modelled for it start afresh
            self.project.layers = Budget(PROJECT_LAYERS, reason="project")

    def _binding(self, local: str) -> Binding | None:
        """``Block`` (imported from a project file) or ``blocks.Block`` (a class of an imported
        project module)."""
        root, _, attribute = local.partition(".")
        imported = self._imports.get(root)
        if imported is None:
            binding = None if attribute else self.project.star_binding(self.path, self._imports, root)
        else:
            binding = (self.project.attribute_binding(self.path, imported, attribute) if attribute
                       else self.project.binding(self.path, imported))
        if binding is not None:
            self._read.add(binding.path)
        return binding

    def _definition(self, local: str, keyword: str) -> Imported | None:
        key = f"{keyword} {local}"
        if key not in self._resolved:
            binding = self._binding(local)
            found = None if binding is None else self.project.definition(binding, keyword, self._read)
            if found is not None:
                provided = self.project.provides(found, keyword)
                if provided is None and self.project.too_deep() and found.path not in self.unfollowed:
                    self.unfollowed.append(found.path)
                if not provided:
                    found = None
            model = None if found is None else self.project.model(found.path, found.name)
            self._resolved[key] = None if model is None else Imported(model, found.name)
        return self._resolved[key]

    def star_origin(self, level: int, module: str, name: str) -> str | None:
        return self.project.star_origin(self.path, level, module, name, self._read)

    def module_class(self, local: str) -> tuple[ModuleClass, FileModel] | None:
        found = self._definition(local, "class")
        return None if found is None else (found.model.classes[found.name], found.model)

    def function(self, local: str) -> tuple[cst.FunctionDef, FileModel] | None:
        """The imported function, when it initialises something itself."""
        found = self._definition(local, "def")
        return None if found is None else (found.model.functions[found.name], found.model)

    def builder(self, local: str) -> BuilderSummary | None:
        """The summary of a function of another project file that builds and returns a
        Sequential (``from layers import mlp``): expanded at each call here as the file's own."""
        if local not in self._builders:
            binding = self._binding(local)
            found = None if binding is None else self.project.definition(binding, "def", self._read)
            model = self.project.model(found.path, found.name) \
                if found is not None and self.project.may_build_sequential(found) else None
            self._builders[local] = None if model is None else model.builders.get(found.name)  # type: ignore[union-attr]
        return self._builders[local]

    def built_elsewhere(self, name: str) -> bool:
        """Whether the class ``name``, which this file builds nowhere, may be a block of a model
        of another project file that does not build it in view: module classes of other files
        build this file's classes, and none of them builds ``name`` itself (there, its
        construction is judged with what follows it: ``targets._construction_ops``). Those
        files are read, for the cache."""
        users = self.project.block_users(self.path)
        self._read.update(users)
        return bool(users) and not self.project.holds_directly(self.path, name)

    def factory(self, local: str) -> Submodule | None:
        """The module a function of another project file builds and returns (``return
        nn.Conv2d(...)``), whether it initialises it or not: built here as the file's own."""
        if local not in self._factories:
            binding = self._binding(local)
            found = None if binding is None else self.project.definition(binding, "def", self._read)
            returns = found is not None and (self.project.may_return_module(found) or self.project.may_initialise(found))
            model = self.project.model(found.path, found.name) if returns else None  # type: ignore[union-attr]
            self._factories[local] = None if model is None else model.factory_modules.get(found.name)  # type: ignore[union-attr]
        return self._factories[local]

    def returning(self, local: str) -> tuple[cst.FunctionDef, FileModel] | None:
        """A function of another project file that returns a tuple (``return -lim, lim``), for a
        call whose items an init spreads: ``w.uniform_(*hidden_init(self.fc1))`` after ``from
        utils import hidden_init``, read as in the file that writes the helper."""
        key = f"values {local}"
        if key not in self._resolved:
            binding = self._binding(local)
            found = None if binding is None else self.project.definition(binding, "def", self._read)
            model = self.project.model(found.path, found.name) \
                if found is not None and self.project.may_return_items(found) else None
            self._resolved[key] = None if model is None or found.name not in model.functions \
                else Imported(model, found.name)  # type: ignore[union-attr]
        imported = self._resolved[key]
        return None if imported is None else (imported.model.functions[imported.name], imported.model)

    def models(self) -> list[FileModel]:
        return [found.model for found in self._resolved.values() if found is not None]

    def reads(self) -> dict[str, str]:
        """Path -> SHA-256 of every project file this file's analysis read, transitively."""
        paths: set[Path] = set()
        pending, seen = [self], {id(self)}
        while pending:
            links = pending.pop()
            paths |= links._read
            for model in links.models():
                if model.links is not None and id(model.links) not in seen:
                    seen.add(id(model.links))
                    pending.append(model.links)
        paths.discard(self.path)
        return {str(path): digest for path in sorted(paths)
                if (digest := self.project.digest(path)) is not None}

    def calls_initialiser(self, text: str) -> bool:
        """Whether this file calls or applies a function, or builds a module class, imported from
        a project file that can initialise: such a file can hold a finding though its own text
        names no init."""
        # Most files import no such function nor any project module: no scan of their code then.
        imported = [local for local, found in self._imports.items()
                    if self.project.may_be_initialiser(self.path, found)]
        modules = [local for local, found in self._imports.items()
                   if found.name != "*" and self.project.resolve(self.path, found.level, found.dotted) is not None]
        stars = any(found.name == "*" for found in self._imports.values())
        if not imported and not modules and not stars:
            return False
        code = self._code if self._code is not None and text == self.text else without_strings(text)
        used: set[str] = set()
        unsure: set[str] = set()
        if imported or stars:
            called = set(_CALLED_OR_PASSED.findall(code))
            used = called.intersection(imported)
            if stars:  # ``from blocks import *``: any name it does not import otherwise may be one
                unsure = called - self._imports.keys()
        if modules:
            # ``blocks.init_layer(...)`` after ``import blocks`` (``pkg.util.init.f(...)`` after ``import
            # pkg.util.init``): a function of the very module an import names, not of one reached
            # through a package's attributes (``torch.nn.init.zeros_`` after ``import torch``).
            named = _named_modules(code) | set(modules)
            unsure |= {dotted for dotted in _dotted_uses(code, frozenset(modules))
                       if dotted.rpartition(".")[0] in named}
        # Held to the text check the imported names passed: only a definition whose code can
        # initialise is worth modelling its file for.
        used |= {local for local in unsure
                 if (binding := self._binding(local)) is not None and self.project.initialiser(binding)}
        if any(self.module_class(local) is not None for local in used):
            return True
        helpers = [local for local in used if self.function(local) is not None]
        # A helper that fills what it is given writes a model's weights only where this file can
        # hand it one: names a module, a layer, a parameter or a trainable tensor, or builds a
        # model of the project (with its class or a factory).
        if not helpers or _NAMES_MODEL.search(code) is not None:
            return bool(helpers)
        built = set(_CALLED_OR_PASSED.findall(code)).intersection(self._imports)
        return any(self.module_class(local) is not None or self._is_factory(local) for local in built)

    def _is_factory(self, local: str) -> bool:
        found = self._resolved[f"def {local}"] if self.function(local) is not None else None
        return found is not None and found.name in found.model.factory_modules


def _is(test: Callable[[], bool]) -> bool:
    """A directory entry's type test; a link that cannot be followed (a loop) is neither."""
    try:
        return test()
    except OSError:
        return False


_PROJECTS: dict[tuple[str, tuple[str, ...]], Project] = {}


def project_for(run: str, roots: tuple[str, ...]) -> Project:
    """The project of one run (``run``: its unique id) in this process: a worker keeps it from
    file to file, and a later run reads the files afresh."""
    key = (run, roots)
    project = _PROJECTS.get(key)
    if project is None:
        _PROJECTS.clear()
        project = _PROJECTS[key] = Project(roots)
    return project
