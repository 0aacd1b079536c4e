"""What the report says about how a model was read and probed: each note is the sentence the
reports print (a ``str``, as JSON writes it) with the kind of fact it states, for code to test."""

from __future__ import annotations

from enum import Enum


class NoteKind(str, Enum):
    """The kind of fact a note states."""

    PROBED = "probed"  # the forward probe ran, on the inputs the note names
    NO_FORWARD = "no-forward"  # no forward pass, and why
    META_TRACE = "meta-trace"  # module by module: activations traced on the meta device, no signal
    LAZY_MATERIALISED = "lazy-materialised"  # lazy modules sized by a first forward pass
    MODULE_BY_MODULE = "module-by-module"  # the model was never whole in memory
    BUILT_WHOLE = "built-whole"  # module by module was asked for or chosen, and not possible
    NOT_REPLAYED = "not-replayed"  # module by module: inits that cannot be replayed, not measured
    TIED = "tied"  # tensors under several names, measured once
    LOOKS_TRAINED = "looks-trained"  # trained-looking tensors audited as inits (--force)
    SAMPLED = "sampled"  # --sample: tensors measured on a sample
    NO_ARCHITECTURE = "no-architecture"  # a state dict without its module graph
    SCRIPT_WEIGHTS = "script-weights"  # TorchScript read as weights, its code not run
    SCRIPT_GRAPH = "script-graph"  # TorchScript activations read from the graph, or not
    CONFIG_UNREADABLE = "config-unreadable"
    CONFIG_IGNORED = "config-ignored"  # arguments that would load weights, removed
    CONFIG_REFUSED = "config-refused"  # custom code or a hub backbone: not built
    CONFIG_NOT_BUILT = "config-not-built"  # the build failed, was refused or is too big
    FILES_NOT_AUDITED = "files-not-audited"  # weight files the loader would not read
    TENSORS_NOT_AUDITED = "tensors-not-audited"  # tensors the model its config describes lacks
    OUTSIDE_STATE_DICT = "outside-state-dict"  # the file's other tensors, checked for NaN only
    NOT_COPIED = "not-copied"  # --fix: a file left out of the fixed copy


class Note(str):
    """A report sentence (``text``) with its ``kind``; every string use of a note still works."""

    kind: NoteKind

    def __new__(cls, kind: NoteKind, text: str) -> Note:
        note = super().__new__(cls, text)
        note.kind = kind
        return note

    @property
    def text(self) -> str:
        return str(self)

    def __getnewargs__(self) -> tuple[NoteKind, str]:  # type: ignore[override]  # copy and pickle
        return self.kind, str(self)

    def __repr__(self) -> str:
        return f"Note({self.kind.name}, {str(self)!r})"
