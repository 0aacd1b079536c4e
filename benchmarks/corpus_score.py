"""Precision and recall of ``initaudit check`` on a hand-labelled corpus of public PyTorch code.

    python benchmarks/corpus_score.py [--mirrors DIR] [--split tune|frozen|all] [--list]

``benchmarks/corpus/labels/*.json`` name repositories (owner/name and commit), the files in each
whose init sites were all labelled by reading the code, before the linter ran on it, and for each
site the codes a careful reviewer expects there (IA101-IA114 at warning or error; ``[]`` for a
clean site). No third-party code is kept here: the script exports each repository's Python files at
the labelled commit from a local clone (``MIRRORS/owner+name/repo``, bare or with its ``.git``;
``--mirrors`` names another folder of that shape) and checks the whole tree, so
that imports between its files resolve as in the repository.

A finding counts when it is at warning or error severity, in a labelled file, with an IA1xx code:
it is true when a site expecting that code is at its line (or at a line the site lists under
"also": where a cross-file finding may be reported) or within two lines of it (a statement over
several lines), false otherwise. An expected code with no finding is a miss, unless the labels
list that site and another as places of one finding (each names the other) and the other got it. A repository is in the
frozen part when the SHA-1 of its name is divisible by 3: the part never looked at while tuning.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

LABELS = Path(__file__).parent / "corpus" / "labels"
SCORED = {f"IA{number}" for number in range(101, 115)}
_NEAR = 2  # lines: a finding on a later line of the labelled statement


@dataclass
class Site:
    repo: str
    path: str
    line: int
    expect: list[str]
    cross_file: bool
    places: list[tuple[str, int]]
    why: str
    found: set[str] = field(default_factory=set)


@dataclass
class Tally:
    true: int = 0
    false: int = 0
    missed: int = 0
    cross_expected: int = 0
    cross_found: int = 0
    sites: int = 0
    repos: int = 0
    false_findings: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    def line(self, name: str) -> str:
        precision = self.true / (self.true + self.false) if self.true + self.false else 1.0
        recall = self.true / (self.true + self.missed) if self.true + self.missed else 1.0
        cross = self.cross_found / self.cross_expected if self.cross_expected else float("nan")
        return (f"{name:<8}{self.repos:>6} repos {self.sites:>5} sites  true {self.true:>4}  false {self.false:>4}  "
                f"missed {self.missed:>4}  precision {precision:.3f}  recall {recall:.3f}  "
                f"cross-file recall {cross:.3f} ({self.cross_found}/{self.cross_expected})")


def frozen(repo: str) -> bool:
    return int(hashlib.sha1(repo.encode()).hexdigest(), 16) % 3 == 0


def load_repos(group: str | None = None) -> list[dict]:
    """The labelled repositories, of one label file's ``group`` when one is named."""
    repos = []
    for path in sorted(LABELS.glob("*.json")):
        labels = json.loads(path.read_text(encoding="utf-8"))
        if group is None or labels["group"] == group:
            repos += labels["repos"]
    return repos


def export(mirrors: Path, repo: dict, into: Path) -> Path:
    """The repository's Python files (and project markers) at the labelled commit, under
    ``into``. Read blob by blob: a local copy may lack the large files of other kinds."""
    folder = mirrors / repo["repo"].replace("/", "+") / "repo"
    git = ["git", f"--git-dir={folder / '.git' if (folder / '.git').is_dir() else folder}"]
    listing = subprocess.run([*git, "ls-tree", "-r", "-z", repo["commit"]], capture_output=True, check=True).stdout
    wanted = []
    for entry in listing.split(b"\0"):
        if not entry:
            continue
        meta, _, name = entry.partition(b"\t")
        path = name.decode("utf-8", "surrogateescape")
        if meta.split()[1] == b"blob" and (path.endswith(".py") or Path(path).name in ("pyproject.toml", "setup.cfg")):
            wanted.append((meta.split()[2].decode(), path))
    target = into / repo["repo"].replace("/", "+")
    for sha, path in wanted:
        blob = subprocess.run([*git, "cat-file", "blob", sha], capture_output=True)
        if blob.returncode == 0:
            destination = target / path
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(blob.stdout)
    return target


def findings(tree: Path) -> list[dict]:
    command = [sys.executable, "-m", "initaudit", "check", str(tree), "--isolated", "--no-cache",
               "--exit-zero", "--output-format", "json", "--quiet"]
    report = subprocess.run(command, capture_output=True, text=True, cwd=tree)
    try:
        diagnostics = json.loads(report.stdout)["diagnostics"]
    except (ValueError, KeyError):
        raise RuntimeError(f"initaudit failed on {tree}: {report.stderr.strip()[:300]}") from None
    if report.returncode != 0:  # files it could not analyse: their sites count as missed
        print(f"warning: {tree.name}: {report.stderr.strip()[:300]}", file=sys.stderr)
    return diagnostics


def score(repo: dict, tree: Path, tally: Tally) -> None:
    files = set(repo["files"])
    sites = [Site(repo["repo"], s["path"], s["line"], s["expect"], s.get("cross_file", False),
                  [(s["path"], s["line"]), *((p, line) for p, line in s.get("also", []))], s.get("why", ""))
             for s in repo["sites"]]
    tally.repos += 1
    tally.sites += len(sites)
    for finding in findings(tree):
        path = Path(finding["path"]).resolve().relative_to(tree.resolve()).as_posix()
        if path not in files or finding["code"] not in SCORED or finding["severity"] not in ("warning", "error"):
            continue
        site = _site_for(sites, path, finding["line"], finding["code"])
        if site is None:
            tally.false += 1
            tally.false_findings.append(f"{repo['repo']} {path}:{finding['line']} {finding['code']} "
                                        f"{finding['message'][:160]}")
        elif finding["code"] not in site.found:
            site.found.add(finding["code"])
            tally.true += 1
            tally.cross_found += site.cross_file
    for site in sites:
        counted = set(site.expect) - _answered_elsewhere(site, sites)
        for code in counted - site.found:
            tally.missed += 1
            tally.misses.append(f"{site.repo} {site.path}:{site.line} {code} ({site.why})")
        tally.cross_expected += site.cross_file * len(counted)


def _answered_elsewhere(site: Site, sites: list[Site]) -> set[str]:
    """The codes ``site`` misses that a finding answered at another site naming it among its
    places, and named among its own: one finding the labels list at two places (a helper's line
    and the call applying it), which the linter reports at one of them."""
    here = (site.path, site.line)
    return {code for code in set(site.expect) - site.found
            if any(code in other.found and here in other.places and (other.path, other.line) in site.places
                   for other in sites if other is not site)}


def _site_for(sites: list[Site], path: str, line: int, code: str) -> Site | None:
    """The site a finding answers: one expecting its code at its place, not yet answered first
    (several findings at one call may each answer a site elsewhere: a helper's dead inits)."""
    wanting = sorted((s for s in sites if code in s.expect), key=lambda s: code in s.found)
    exact = [s for s in wanting if (path, line) in s.places]
    if exact:
        return exact[0]
    near = [(min(abs(line - at) for p, at in s.places if p == path), s) for s in wanting
            if any(p == path and 0 <= line - at <= _NEAR for p, at in s.places)]
    return min(near, key=lambda pair: pair[0])[1] if near else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--split", choices=("tune", "frozen", "all"), default="all")
    parser.add_argument("--list", action="store_true", help="print every false finding and miss")
    parser.add_argument("--group", help="score only the label file of this group (its first score is "
                                        "a blind one when the linter has not been tuned on it)")
    args = parser.parse_args()
    tallies = {"tune": Tally(), "frozen": Tally()}
    unavailable = []
    with tempfile.TemporaryDirectory() as scratch:
        for repo in load_repos(args.group):
            part = "frozen" if frozen(repo["repo"]) else "tune"
            if args.split not in ("all", part):
                continue
            try:
                tree = export(args.mirrors, repo, Path(scratch))
            except (subprocess.CalledProcessError, OSError) as error:
                unavailable.append(f"{repo['repo']}: {error}")
                continue
            score(repo, tree, tallies[part])
    total = Tally()
    for name, tally in tallies.items():
        for attribute in ("true", "false", "missed", "cross_expected", "cross_found", "sites", "repos"):
            setattr(total, attribute, getattr(total, attribute) + getattr(tally, attribute))
        total.false_findings += tally.false_findings
        total.misses += tally.misses
    for name, tally in (*tallies.items(), ("all", total)):
        if tally.repos:
            print(tally.line(name))
    if unavailable:
        print(f"not scored (no local copy): {len(unavailable)}", *unavailable, sep="\n  ")
    if args.list:
        print("\nfalse findings:", *total.false_findings, sep="\n  ")
        print("\nmisses:", *total.misses, sep="\n  ")


if __name__ == "__main__":
    main()
