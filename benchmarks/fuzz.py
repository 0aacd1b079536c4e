"""Fuzz ``initaudit check`` and ``initaudit model`` with mutated sources, notebooks and checkpoints.

    python benchmarks/fuzz.py [--seed 0] [--budget-seconds 300] [--files 5000] [--keep DIR]
                              [--server-frames 2000]

Sources are the project's examples and package and torch/nn from the installed torch, mutated at
the byte, token and structure level (deprecated init calls and noqa comments, so that --fix has
work), some wrapped into notebooks and mutated as JSON; some are also checked inside a hostile
checkout (a source file and the results cache linked to outside the tree) and fixed on a full disk
(RLIMIT_FSIZE). Checkpoints are built from a small model in every format the auditor reads, then
corrupted or made hostile (pickles that run code, TorchScript whose __setstate__ writes a file,
shard indexes pointing elsewhere, a stride-0 tensor of 2**34 values, thousands of names for one
storage, records that inflate a thousandfold), and some are fixed onto a full disk. Each input runs
in a fresh child process with a timeout and a 4 GiB address-space limit; the run stops starting new
inputs when the budget is spent. Failures (crash, hang, fix damage, code executed, write outside
the output, read outside the tree, huge memory) are printed with one line of cause each and, with
--keep, saved with the commands that reproduce them. The hostile shapes of
``benchmarks/lint_bombs.py`` (classes composing each other exponentially, a ring of project files
holding each other, ``.gitignore`` wildcards over a deep tree, a notebook of thousands of cells)
run next, at their largest size and one drawn from the seed, under the same verdicts. Then, with
pygls installed, one ``initaudit server`` takes malformed frames (lengths that lie, broken headers, bodies that are not
JSON, JSON-RPC messages of any shape), each followed by a well-formed request that it must answer.
Exit status 1 when anything failed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fuzz.campaign import Settings, run_campaign  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget-seconds", type=float, default=300.0, help="stop starting inputs after this")
    parser.add_argument("--files", type=int, default=5000, help="inputs to generate at most")
    parser.add_argument("--keep", type=Path, help="save each failing input and its cause here")
    parser.add_argument("--jobs", type=int, default=2, help="inputs run in parallel (default 2)")
    parser.add_argument("--no-checkpoints", action="store_true", help="fuzz the linter only")
    parser.add_argument("--max-source-bytes", type=int, default=200_000,
                        help="skip corpus files larger than this")
    parser.add_argument("--server-frames", type=int, default=2000,
                        help="malformed frames sent to the language server (0: none)")
    parser.add_argument("--no-shapes", action="store_true", help="leave out the hostile shapes of lint_bombs.py")
    args = parser.parse_args()
    checkpoints = not args.no_checkpoints and importlib.util.find_spec("torch") is not None
    if not checkpoints:
        print("checkpoints: not fuzzed (torch is not installed or --no-checkpoints)")
    results = run_campaign(Settings(seed=args.seed, files=args.files, budget_seconds=args.budget_seconds,
                                    jobs=args.jobs, checkpoints=checkpoints,
                                    max_source_bytes=args.max_source_bytes, keep=args.keep))
    print(results.report())
    failures = len(results.failures)
    if not args.no_shapes:
        runs, shape_failures = fuzz_resource_shapes(args.seed)
        print("\n".join([*shape_failures, f"resource shapes {runs}, failures {len(shape_failures)}"]))
        failures += len(shape_failures)
    if args.server_frames and importlib.util.find_spec("pygls") is not None:
        server_failures = fuzz_server_frames(args.seed, args.server_frames)
        print("\n".join([*server_failures, f"server frames {args.server_frames}, failures {len(server_failures)}"]))
        failures += len(server_failures)
    sys.exit(1 if failures else 0)


def fuzz_resource_shapes(seed: int, cpu: float = 30.0) -> tuple[int, list[str]]:
    """Each shape of ``benchmarks/lint_bombs.py`` at its largest size and at one drawn from the
    seed, checked once in a child with the campaign's memory limit and ``cpu`` seconds: how many
    runs, and a line for each that crashed, hung or ran out of memory."""
    from benchmarks.lint_bombs import SHAPES
    from tests.fuzz.runner import CommandRunner
    from tests.fuzz.verdicts import judge_process

    rng = random.Random(f"{seed}:shapes")
    runs, failures = 0, []
    with tempfile.TemporaryDirectory(prefix="initaudit-shapes-") as scratch:
        runner = CommandRunner(Path(scratch) / "runner", with_torch=False)
        try:
            for shape in SHAPES:
                for size in sorted({shape.sizes[-1], rng.choice(shape.sizes)}):
                    folder = Path(scratch) / f"{shape.name.replace(' ', '-')}-{size}"
                    (folder / "home").mkdir(parents=True)
                    target = shape.write(size, folder)
                    argv = ["check", "--no-cache", *(shape.flags or ("--format", "json")), str(target)]
                    outcome = runner.run(argv, cwd=folder, env={"HOME": str(folder / "home")}, cpu=cpu,
                                         memory=Settings.memory)
                    runs += 1
                    failures += [f"{verdict.category}: {shape.name}, {size} {shape.unit}: {verdict.cause}"
                                 for verdict in judge_process(outcome, json_stdout=not shape.flags, cpu=cpu)]
        finally:
            runner.close()
    return runs, failures


def fuzz_server_frames(seed: int, frames: int) -> list[str]:
    """Send ``frames`` malformed frames to one server, each followed by a well-formed request;
    a line for each request it did not answer (the run stops there) and for a bad exit."""
    import pytest

    from tests.lint.test_server_hostile import BAD, Server

    rng = random.Random(seed)
    failures = []
    with tempfile.TemporaryDirectory() as scratch:
        workspace = Path(scratch) / "workspace"
        workspace.mkdir()
        server = Server(workspace)
        uri = (workspace / "net.py").as_uri()
        server.open(uri, BAD)
        request = {"jsonrpc": "2.0", "id": "probe", "method": "textDocument/codeAction", "params": {
            "textDocument": {"uri": uri}, "context": {"diagnostics": []},
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 9, "character": 0}}}}
        probe = _frame(json.dumps(request).encode())
        try:
            for index in range(frames):
                data = _malformed(rng, uri, len(probe))
                server.write(data + probe)
                try:
                    answer = server.expect(lambda m: m.get("id") == "probe")
                except (AssertionError, OSError, pytest.fail.Exception) as error:
                    failures.append(f"server frame {index} {data[:80]!r}...: {str(error).splitlines()[0]}")
                    break
                if not isinstance(answer.get("result"), list):
                    failures.append(f"server frame {index} {data[:80]!r}...: answered {answer}")
                server.answered()
                server.published()
            else:
                if server.close() != 0:
                    failures.append("server: exit status not 0 after shutdown and exit")
        finally:
            server.kill()
    return failures


def _frame(body: bytes, length: int | None = None) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % (len(body) if length is None else length) + body


def _malformed(rng: random.Random, uri: str, follower: int) -> bytes:
    """A frame a client might get wrong; a length it announces reaches at most ``follower``
    bytes past its body, into the well-formed frame that follows (more would rightly make the
    server wait for bytes that never come)."""
    body = json.dumps(_message(rng)).encode()
    shape = rng.randrange(7)
    if shape == 0:
        return _frame(body)
    if shape == 6:
        return _frame(json.dumps(_edit(rng, uri)).encode())
    if shape == 1:
        return _frame(body, max(0, len(body) + rng.randint(-len(body), follower)))
    if shape == 2:
        flipped = bytearray(body)
        for _ in range(rng.randint(1, 4)):
            flipped[rng.randrange(len(flipped))] = rng.randrange(256)
        return _frame(bytes(flipped))
    if shape == 3:
        value = rng.choice([b"-1", b"1e3", b"0x10", b"", b" ", b"9" * rng.randint(9, 5000), b"1099511627776",
                            b"%d" % (64 * 1024 * 1024 + 1), b"\xff"])
        name = rng.choice([b"Content-Length", b"content-length", b"Content-Lenght", b"Content-Type"])
        return name + b": " + value + b"\r\n" * rng.randint(1, 2) + body
    if shape == 4:
        return b"X-" + bytes(rng.randrange(32, 127) for _ in range(rng.randint(0, 20000))) + b"\r\n\r\n"
    return bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))


def _message(rng: random.Random) -> object:
    """A JSON-RPC message of any shape, on methods the server takes (never shutdown or exit)."""
    method = rng.choice(["textDocument/didOpen", "textDocument/didChange", "textDocument/didSave",
                         "textDocument/codeAction", "textDocument/didClose", "initaudit/unknown", 5, None])
    message = {"jsonrpc": rng.choice(["2.0", "2.0", "1.0", 2]), "method": method, "params": _value(rng, 3)}
    if rng.random() < 0.6:
        message["id"] = rng.choice([rng.randint(-10, 10**12), "x", None, [], {"a": 1}, 1.5, True])
    if rng.random() < 0.1:
        del message[rng.choice(list(message))]
    return rng.choice([message, message, message, _value(rng, 2)])


def _edit(rng: random.Random, uri: str) -> dict[str, object]:
    """A well-typed didOpen or didChange of ``uri``: odd line breaks, surrogates, any position."""
    text = "".join(rng.choice(["nn.init.normal(w)", "import torch.nn as nn", "\r\n", "\r", "\n", "\f", "\x85",
                               "\u2028", "\U0001f525", "\ud83d", "é", " "]) for _ in range(rng.randint(0, 40)))
    if rng.random() < 0.3:
        return {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "python", "version": 1, "text": text}}}

    def position() -> dict[str, int]:
        return {"line": rng.choice([0, 1, 2, 5, 2**31 - 1]), "character": rng.choice([0, 1, 2, 3, 7, 2**31 - 1])}

    changes = [{"range": {"start": position(), "end": position()}, "text": text} if rng.random() < 0.8
               else {"text": text} for _ in range(rng.randint(1, 3))]
    return {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
        "textDocument": {"uri": uri, "version": rng.randint(0, 100)}, "contentChanges": changes}}


def _value(rng: random.Random, depth: int) -> object:
    """A JSON value, with the names and numbers LSP parameters use."""
    if depth and rng.random() < 0.5:
        keys = ["textDocument", "uri", "text", "version", "range", "start", "end", "line", "character",
                "contentChanges", "context", "only", "diagnostics"]
        return {rng.choice(keys): _value(rng, depth - 1) for _ in range(rng.randint(0, 4))}
    if depth and rng.random() < 0.2:
        return [_value(rng, depth - 1) for _ in range(rng.randint(0, 3))]
    return rng.choice([0, -1, 2**31, 2**63, 1.5, "", "file:///dev/zero", "file:///tmp/x.py",
                       "nn.init.xavier_uniform(w)\f\u2028\r", "\ud800", None, True, []])


if __name__ == "__main__":
    main()
