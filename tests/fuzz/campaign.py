"""A fuzz campaign: generate cases from a seed, run them on a few workers, keep the failures."""

from __future__ import annotations

import json
import random
import shutil
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

from tests.fuzz import notebooks
from tests.fuzz.lint_case import LintCase, run_lint_case
from tests.fuzz.model_case import ModelCase, run_model_case, write_checkpoint
from tests.fuzz.runner import CommandRunner
from tests.fuzz.sources import corpus, mutate_source
from tests.fuzz.verdicts import CATEGORIES, Verdict

Case = Union[LintCase, ModelCase]


@dataclass(frozen=True)
class Settings:
    seed: int = 0
    files: int = 200
    budget_seconds: float = 60.0
    jobs: int = 2
    sources: bool = True
    checkpoints: bool = True  # needs torch; with sources too, every fourth case is a checkpoint
    max_source_bytes: int = 64_000
    lint_cpu_seconds: float = 10.0  # more is a hang
    model_cpu_seconds: float = 30.0
    memory: int = 4 << 30
    keep: Path | None = None


@dataclass(frozen=True)
class Failure:
    case: str
    category: str
    cause: str
    reproducer: Path | None


@dataclass
class Results:
    cases: int = 0
    lint_cases: int = 0
    fixed_cases: int = 0  # sources and notebooks that --fix changed
    model_cases: int = 0
    seconds: float = 0.0
    failures: list[Failure] = field(default_factory=list)

    def counts(self) -> Counter[str]:
        return Counter(failure.category for failure in self.failures)

    def summary(self) -> str:
        counts = self.counts()
        return f"files {self.cases}, " + ", ".join(f"{category} {counts[category]}" for category in CATEGORIES)

    def report(self) -> str:
        lines = [f"{failure.category}: {failure.case}: {failure.cause}"
                 + (f"\n    reproducer: {failure.reproducer}" if failure.reproducer else "")
                 for failure in self.failures]
        lines.append(f"({self.lint_cases} sources and notebooks of which --fix changed "
                     f"{self.fixed_cases}, {self.model_cases} checkpoints, {self.seconds:.1f} s)")
        lines.append(self.summary())
        return "\n".join(lines)


class Generator:
    """Case ``index`` of a seed, the same whatever order or worker runs it."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._sources = corpus(settings.max_source_bytes)
        self._bases = None
        if settings.checkpoints:
            from tests.fuzz.checkpoints import build_bases

            self._bases = build_bases(settings.seed)

    def case(self, index: int) -> tuple[str, Case]:
        rng = random.Random(f"{self._settings.seed}:{index}")
        if self._bases is not None and (not self._settings.sources or index % 4 == 3):
            from tests.fuzz.checkpoints import mutate_checkpoint

            files, target, what = mutate_checkpoint(rng, self._bases)
            return f"{index:05d}-model", ModelCase(files, target, "; ".join(what), full_disk=rng.random() < 0.2)
        source = rng.choice(self._sources)
        data, applied = mutate_source(rng, source.read_bytes())
        name = f"{source.stem}.py"
        if rng.random() < 0.25:
            data = notebooks.serialise(rng, notebooks.wrap(rng, data))
            name = f"{source.stem}.ipynb"
            applied.append("notebook")
        case = LintCase(name, data, unsafe=rng.random() < 0.5, link=rng.random() < 0.15,
                        mode=rng.choice((0o644, 0o644, 0o755, 0o600)),
                        what=f"{source.relative_to(source.parents[1])}: {', '.join(applied)}",
                        checkout=rng.random() < 0.1, full_disk=rng.random() < 0.15)
        return f"{index:05d}-{source.stem}", case


def run_campaign(settings: Settings) -> Results:
    started = time.monotonic()
    generator = Generator(settings)
    results = Results()
    lock = threading.Lock()
    local = threading.local()
    runners: list[CommandRunner] = []
    scratch = Path(tempfile.mkdtemp(prefix="initaudit-fuzz-"))

    def run_one(index: int) -> None:
        if time.monotonic() - started > settings.budget_seconds:
            return
        if not hasattr(local, "runner"):
            local.runner = CommandRunner(scratch / f"worker-{threading.get_ident()}",
                                         with_torch=settings.checkpoints)
            with lock:
                runners.append(local.runner)
        name, case = generator.case(index)
        root = scratch / name
        fixed = False
        if isinstance(case, LintCase):
            verdicts, fixed = run_lint_case(case, root, local.runner, cpu=settings.lint_cpu_seconds,
                                            memory=settings.memory)
        else:
            verdicts = run_model_case(case, root, local.runner, cpu=settings.model_cpu_seconds,
                                      memory=settings.memory)
        verdicts = _first_per_category(verdicts)
        kept = _keep(settings.keep, name, case, verdicts) if verdicts else None
        shutil.rmtree(root, ignore_errors=True)
        with lock:
            results.cases += 1
            results.fixed_cases += fixed
            if isinstance(case, LintCase):
                results.lint_cases += 1
            else:
                results.model_cases += 1
            results.failures += [Failure(name, v.category, v.cause, kept) for v in verdicts]

    try:
        with ThreadPoolExecutor(max_workers=settings.jobs) as pool:
            list(pool.map(run_one, range(settings.files)))
    finally:
        for runner in runners:
            runner.close()
        shutil.rmtree(scratch, ignore_errors=True)
    results.failures.sort(key=lambda failure: (failure.category, failure.case))
    results.seconds = time.monotonic() - started
    return results


def _first_per_category(verdicts: list[Verdict]) -> list[Verdict]:
    """One failure per input and category (``check`` and ``check --fix`` often fail alike)."""
    first: dict[str, Verdict] = {}
    for verdict in verdicts:
        first.setdefault(verdict.category, verdict)
    return list(first.values())


def _keep(keep: Path | None, name: str, case: Case, verdicts: list[Verdict]) -> Path | None:
    """Write the failing input under ``keep/name`` with a note on how to run it again."""
    if keep is None:
        return None
    folder = keep / name
    shutil.rmtree(folder, ignore_errors=True)
    if isinstance(case, LintCase):
        (folder / "input").mkdir(parents=True)
        path = folder / "input" / case.name
        path.write_bytes(case.data)
        fix = "--fix --unsafe-fixes" if case.unsafe else "--fix"
        how = [f"initaudit check --no-cache --format json {path}",
               f"cp {path} /tmp/{case.name} && chmod {case.mode:o} /tmp/{case.name} && "
               f"initaudit check --no-cache --format json {fix} /tmp/{case.name}"
               + (" (through a symlink)" if case.link else ""), f"({case.what})"]
    else:
        path = write_checkpoint(case, folder)
        how = [f"cd $(mktemp -d) && initaudit model {path} --format json",
               f"cd $(mktemp -d) && initaudit model {path} --format json --fix --output $PWD/out/fixed{path.suffix}",
               f"({case.what})"]
    notes = [f"{v.category}: {v.cause}" for v in verdicts]
    (folder / "cause.txt").write_text("\n".join([*notes, "", *how, ""]))
    (folder / "verdicts.json").write_text(json.dumps([v.__dict__ for v in verdicts], indent=1))
    return path
