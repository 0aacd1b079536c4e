"""How fast ``initaudit server`` answers an editor: latencies over stdio on a 300-line model file.

    python benchmarks/lsp_latency.py [--edits N] [--bursts N] [--server-arg ARG ...]

The server runs in a child process of this interpreter, driven with raw LSP frames from a
workspace in a temporary directory (a pyproject.toml with a ``[tool.initaudit]`` table and
``models/vision.py``, written from ``MODEL`` below: eleven findings, four with a safe fix). A thread
stamps each message the server writes as it arrives. Printed, in milliseconds, with the targets:

- ``initialize``: from starting the process to the answer to ``initialize``; ``first
  diagnostics``: from ``didOpen`` to the first ``publishDiagnostics``.
- ``didChange -> diagnostics``: one character typed into a comment, then a wait for the
  diagnostics of that version (every version is a full lint); median and 95th percentile.
- ``burst``: 20 characters typed 20 ms apart; the time from the last one to the diagnostics of
  the final version (median over the bursts), and how many diagnostics were published for a
  version older than one the client had already sent (stale).
- ``codeAction``: a quick fix asked for at a finding, when the diagnostics are current (median)
  and right after a burst (median).

To measure another version of the server, put its tree first on PYTHONPATH (the benchmark runs
the server with ``python -m initaudit``). Only ``--stdio`` is new: leave it out for an older one.
"""

from __future__ import annotations

import argparse
import itertools
import json
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

Message = dict[str, Any]
WAIT = 60.0
BURST, GAP = 20, 0.020
#: Where typing happens: the end of this comment line, below the finding quick fixes are asked for.
TYPED_AFTER = "# pooled over the sequence, then one hidden layer:"
FIXABLE = "nn.init.xavier_uniform("

MODEL = '''\
"""Models for the image and sequence experiments: a conv stem, a transformer encoder, heads."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Config:
    channels: int = 3
    width: int = 64
    depth: int = 4
    heads: int = 8
    hidden: int = 256
    classes: int = 10
    dropout: float = 0.1


def mlp(sizes: list[int], activation: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    layers: list[nn.Module] = []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        layers += [nn.Linear(fan_in, fan_out), activation()]
    return nn.Sequential(*layers[:-1])


class ConvStem(nn.Module):
    """Three 3x3 convolutions, each followed by batch norm and ReLU."""

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(config.channels, config.width, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(config.width)
        self.conv2 = nn.Conv2d(config.width, config.width, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(config.width)
        self.conv3 = nn.Conv2d(config.width, config.width * 2, 3, stride=2, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(config.width * 2)
        self.relu = nn.ReLU(inplace=True)
        nn.init.xavier_uniform_(self.conv1.weight)
        nn.init.kaiming_normal(self.conv2.weight, mode="fan_out", nonlinearity="relu")
        nn.init.kaiming_normal_(self.conv3.weight, mode="fan_out", nonlinearity="relu")
        for bn in (self.bn1, self.bn2, self.bn3):
            nn.init.constant_(bn.weight, 1)
            nn.init.constant_(bn.bias, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.relu(self.bn2(self.conv2(x)))
        return self.relu(self.bn3(self.conv3(x)))


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)
        self.drop = nn.Dropout(dropout)
        nn.init.xavier_uniform(self.qkv.weight)
        nn.init.zeros_(self.qkv.bias)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, dim = x.shape
        qkv = self.qkv(x).reshape(batch, length, 3, self.heads, dim // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        weights = (q @ k.transpose(-2, -1)) * self.scale
        weights = self.drop(weights.softmax(dim=-1))
        out = (weights @ v).transpose(1, 2).reshape(batch, length, dim)
        return self.proj(out)


class FeedForward(nn.Module):
    def __init__(self, dim: int, hidden: int, dropout: float) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)
        self.drop = nn.Dropout(dropout)
        nn.init.normal(self.fc1.weight, std=0.02)
        nn.init.normal_(self.fc2.weight, std=0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))


class Block(nn.Module):
    def __init__(self, config: Config) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(config.hidden)
        self.attn = Attention(config.hidden, config.heads, config.dropout)
        self.norm2 = nn.LayerNorm(config.hidden)
        self.ff = FeedForward(config.hidden, config.hidden * 4, config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.ff(self.norm2(x))


class PositionalEmbedding(nn.Module):
    def __init__(self, max_len: int, dim: int) -> None:
        super().__init__()
        self.table = nn.Parameter(torch.empty(max_len, dim))
        nn.init.trunc_normal_(self.table, std=0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.table[: x.shape[1]]


class Encoder(nn.Module):
    def __init__(self, config: Config) -> None:
        super().__init__()
        self.embed = nn.Linear(config.width * 2, config.hidden)
        self.position = PositionalEmbedding(512, config.hidden)
        self.blocks = nn.ModuleList([Block(config) for _ in range(config.depth)])
        self.norm = nn.LayerNorm(config.hidden)
        self.apply(self._init_weights)

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.trunc_normal_(module.weight, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.position(self.embed(x))
        for block in self.blocks:
            x = block(x)
        return self.norm(x)


class ClassifierHead(nn.Module):
    def __init__(self, config: Config) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool1d(1)
        self.hidden = nn.Linear(config.hidden, config.hidden)
        self.out = nn.Linear(config.hidden, config.classes)
        nn.init.xavier_normal_(self.hidden.weight)
        nn.init.kaiming_uniform_(self.out.weight, nonlinearity="relu")
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # pooled over the sequence, then one hidden layer:
        x = self.pool(x.transpose(1, 2)).squeeze(-1)
        return self.out(F.relu(self.hidden(x)))


class VisionTransformer(nn.Module):
    def __init__(self, config: Config) -> None:
        super().__init__()
        self.stem = ConvStem(config)
        self.encoder = Encoder(config)
        self.head = ClassifierHead(config)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        features = self.stem(images).flatten(2).transpose(1, 2)
        return self.head(self.encoder(features))


class Generator(nn.Module):
    def __init__(self, latent: int = 100, width: int = 64) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.ConvTranspose2d(latent, width * 8, 4, 1, 0, bias=False),
            nn.BatchNorm2d(width * 8),
            nn.ReLU(True),
            nn.ConvTranspose2d(width * 8, width * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(width * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(width * 4, width * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(width * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(width * 2, 3, 4, 2, 1, bias=False),
            nn.Tanh(),
        )
        for m in self.modules():
            if isinstance(m, nn.ConvTranspose2d):
                nn.init.normal_(m.weight, 0.0, 0.02)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.normal_(m.weight, 0.0, 0.02)
                nn.init.zeros_(m.bias)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class Discriminator(nn.Module):
    def __init__(self, width: int = 64) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 4, 2, 1, bias=False)
        self.conv2 = nn.Conv2d(width, width * 2, 4, 2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width * 2)
        self.conv3 = nn.Conv2d(width * 2, 1, 4, 1, 0, bias=False)
        self.act = nn.LeakyReLU(0.2, inplace=True)
        nn.init.kaiming_normal_(self.conv1.weight, a=0, nonlinearity="leaky_relu")
        nn.init.kaiming_normal_(self.conv2.weight, a=0.2, nonlinearity="leaky_relu")
        nn.init.xavier_uniform_(self.conv3.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.conv1(x))
        x = self.act(self.bn2(self.conv2(x)))
        return torch.sigmoid(self.conv3(x))


class RecurrentTagger(nn.Module):
    def __init__(self, vocab: int, dim: int, tags: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim)
        self.lstm = nn.LSTM(dim, dim, batch_first=True, bidirectional=True)
        self.out = nn.Linear(dim * 2, tags)
        nn.init.uniform(self.embedding.weight, -0.1, 0.1)
        for name, param in self.lstm.named_parameters():
            if "weight" in name:
                nn.init.orthogonal_(param)
            else:
                nn.init.zeros_(param)
        nn.init.xavier_uniform_(self.out.weight)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        hidden, _ = self.lstm(self.embedding(tokens))
        return self.out(hidden)


class Autoencoder(nn.Module):
    def __init__(self, sizes: list[int]) -> None:
        super().__init__()
        self.encoder = mlp(sizes)
        self.decoder = mlp(sizes[::-1])
        self.bottleneck = nn.Linear(sizes[-1], sizes[-1])
        self.relu = nn.ReLU()
        nn.init.xavier_uniform_(self.bottleneck.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.relu(self.bottleneck(self.encoder(x))))


def build(name: str, config: Config | None = None) -> nn.Module:
    config = config or Config()
    if name == "vit":
        return VisionTransformer(config)
    if name == "gan":
        return nn.ModuleList([Generator(), Discriminator()])
    if name == "tagger":
        return RecurrentTagger(30000, config.hidden, 17)
    if name == "autoencoder":
        return Autoencoder([784, 256, 64])
    raise ValueError(f"unknown model {name!r}")


def reset_head(model: VisionTransformer, classes: int) -> None:
    model.head.out = nn.Linear(model.head.hidden.out_features, classes)
    nn.init.zeros_(model.head.out.weight)
    nn.init.zeros_(model.head.out.bias)


def train_step(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor],
               optimizer: torch.optim.Optimizer) -> float:
    images, labels = batch
    optimizer.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(images), labels, label_smoothing=0.1)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    return loss.item()


def warmup_cosine(step: int, warmup: int, total: int) -> float:
    if step < warmup:
        return step / max(1, warmup)
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def evaluate(model: nn.Module, loader) -> float:
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in loader:
            predictions = model(images).argmax(dim=-1)
            correct += (predictions == labels).sum().item()
            total += labels.numel()
    model.train()
    return correct / max(1, total)


def count_parameters(model: nn.Module, trainable: bool = True) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable)


def freeze(module: nn.Module) -> None:
    module.requires_grad_(False)
'''


class Server:
    """The server in a child process; ``messages`` holds what it writes, each with its arrival time."""

    def __init__(self, workspace: Path, server_args: list[str]) -> None:
        self.started = time.perf_counter()
        self.process = subprocess.Popen([sys.executable, "-m", "initaudit", "server", *server_args],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, cwd=workspace)
        self.messages: queue.Queue[tuple[float, Message]] = queue.Queue()
        self._ids = itertools.count(1)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            length = None
            while (line := stream.readline()).strip():
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            if not line or length is None:
                return
            body = json.loads(stream.read(length))
            self.messages.put((time.perf_counter(), body))

    def send(self, message: Message) -> float:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self.process.stdin.flush()
        return time.perf_counter()

    def request(self, method: str, params: Message | None) -> int:
        msg_id = next(self._ids)
        self.send({"id": msg_id, "method": method, "params": params})
        return msg_id

    def notify(self, method: str, params: Message | None) -> float:
        return self.send({"method": method, "params": params})

    def until(self, wanted: Callable[[Message], bool], seen: list[tuple[float, Message]]) -> tuple[float, Message]:
        """The wanted message, from ``seen`` or waited for; what is read on the way goes to ``seen``."""
        for arrived, message in seen:
            if wanted(message):
                return arrived, message
        deadline = time.perf_counter() + WAIT
        while True:
            arrived, message = self.messages.get(timeout=max(deadline - time.perf_counter(), 0.001))
            seen.append((arrived, message))
            if wanted(message):
                return arrived, message

    def answer(self, msg_id: int, seen: list[tuple[float, Message]]) -> tuple[float, Message]:
        return self.until(lambda m: m.get("id") == msg_id and "method" not in m, seen)

    def stop(self) -> None:
        self.answer(self.request("shutdown", None), [])
        self.notify("exit", None)
        self.process.wait(timeout=WAIT)


def published(version: int) -> Callable[[Message], bool]:
    return lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"].get("version") == version


def stale(seen: list[tuple[float, Message]], sent: list[tuple[float, int]]) -> int:
    """Diagnostics published for a version older than one the client had sent when they arrived."""
    count = 0
    for arrived, message in seen:
        if message.get("method") == "textDocument/publishDiagnostics":
            newest = max((version for at, version in sent if at <= arrived), default=0)
            count += message["params"].get("version", newest) < newest
    return count


class Document:
    def __init__(self, server: Server, uri: str, text: str) -> None:
        self.server, self.uri, self.text, self.version = server, uri, text, 1
        self.sent: list[tuple[float, int]] = []

    def type_char(self, char: str) -> float:
        """Type ``char`` at the end of the comment line; when it was sent."""
        end = self.text.index("\n", self.text.index(TYPED_AFTER))
        row = self.text.count("\n", 0, end)
        column = end - self.text.rfind("\n", 0, end) - 1
        self.text = self.text[:end] + char + self.text[end:]
        self.version += 1
        position = {"line": row, "character": column}
        at = self.server.notify("textDocument/didChange", {
            "textDocument": {"uri": self.uri, "version": self.version},
            "contentChanges": [{"range": {"start": position, "end": position}, "text": char}]})
        self.sent.append((at, self.version))
        return at

    def actions_at_start(self) -> int:
        """A request for the actions at the top of the file, where there is no finding."""
        start = {"line": 0, "character": 0}
        return self.server.request("textDocument/codeAction", {
            "textDocument": {"uri": self.uri}, "range": {"start": start, "end": start}, "context": {"diagnostics": []}})

    def quick_fix(self) -> int:
        row = self.text[:self.text.index(FIXABLE)].count("\n")
        position = {"line": row, "character": 12}
        return self.server.request("textDocument/codeAction", {
            "textDocument": {"uri": self.uri}, "range": {"start": position, "end": position},
            "context": {"diagnostics": [], "only": ["quickfix"]}})


@dataclass
class Figures:
    initialize: float = 0.0
    first: float = 0.0
    findings: int = 0
    typed: list[float] = field(default_factory=list)
    fixed: list[float] = field(default_factory=list)
    after_burst: list[float] = field(default_factory=list)
    fixed_after_burst: list[float] = field(default_factory=list)
    stale: int = 0


def start(server: Server, workspace: Path, figures: Figures) -> Document:
    seen: list[tuple[float, Message]] = []
    initialized, _ = server.answer(server.request("initialize", {
        "processId": None, "rootUri": workspace.as_uri(), "capabilities": {}}), seen)
    figures.initialize = initialized - server.started
    server.notify("initialized", {})
    document = Document(server, (workspace / "models" / "vision.py").as_uri(), MODEL)
    opened = server.notify("textDocument/didOpen", {"textDocument": {
        "uri": document.uri, "languageId": "python", "version": 1, "text": MODEL}})
    first, message = server.until(published(1), seen)
    figures.first, figures.findings = first - opened, len(message["params"]["diagnostics"])
    return document


def type_slowly(document: Document, edits: int, figures: Figures) -> None:
    """One character at a time, each after the diagnostics of the one before; then quick fixes."""
    seen: list[tuple[float, Message]] = []
    for char in itertools.islice(itertools.cycle("the hidden width follows the encoder "), edits):
        sent = document.type_char(char)
        arrived, _ = document.server.until(published(document.version), seen)
        figures.typed.append(arrived - sent)
    for _ in range(edits):
        sent = time.perf_counter()
        arrived, answer = document.server.answer(document.quick_fix(), seen)
        assert answer.get("result"), answer
        figures.fixed.append(arrived - sent)


def type_fast(document: Document, bursts: int, figures: Figures) -> None:
    """Bursts of BURST characters GAP apart; after every other one a quick fix is asked for at once."""
    server = document.server
    for index in range(bursts * 2):
        window: list[tuple[float, Message]] = []
        document.sent.clear()
        for count, char in enumerate("ab" * (BURST // 2)):
            time.sleep(GAP if count else 0)
            last = document.type_char(char)
        if index % 2:
            sent = time.perf_counter()
            arrived, answer = server.answer(document.quick_fix(), window)
            assert answer.get("result"), answer
            figures.fixed_after_burst.append(arrived - sent)
        arrived, _ = server.until(published(document.version), window)
        if not index % 2:
            figures.after_burst.append(arrived - last)
        # A publish still on its way (for an older version) arrives before the answer to this.
        server.answer(document.actions_at_start(), window)
        figures.stale += stale(window, document.sent)


def report(figures: Figures, server_args: list[str]) -> None:
    def row(name: str, seconds: float, target: str = "") -> None:
        print(f"{name:<46}{seconds * 1000:8.1f} ms  {target}".rstrip())

    print(f"{len(MODEL.splitlines())}-line model file, {figures.findings} findings; "
          f"initaudit server {' '.join(server_args)}".rstrip())
    row("initialize (from process start)", figures.initialize)
    row("didOpen -> first diagnostics", figures.first)
    row("didChange -> diagnostics, p50", statistics.median(figures.typed), "target <= 50 ms")
    row("didChange -> diagnostics, p95", statistics.quantiles(figures.typed, n=20)[-1])
    row(f"burst of {BURST} edits: last edit -> diagnostics", statistics.median(figures.after_burst),
        "target <= 200 ms")
    bursts = len(figures.after_burst) + len(figures.fixed_after_burst)
    print(f"{'burst: diagnostics for a stale version':<46}{figures.stale:8d}     in {bursts} bursts (target 0)")
    row("codeAction (quick fix), p50", statistics.median(figures.fixed), "target <= 100 ms")
    row("codeAction right after a burst, p50", statistics.median(figures.fixed_after_burst), "target <= 100 ms")


def run(edits: int, bursts: int, server_args: list[str], workspace: Path) -> None:
    (workspace / "models").mkdir()
    (workspace / "models" / "vision.py").write_text(MODEL)
    (workspace / "pyproject.toml").write_text('[project]\nname = "vision"\n\n[tool.initaudit]\nignore = []\n')
    figures = Figures()
    server = Server(workspace, server_args)
    try:
        document = start(server, workspace, figures)
        type_slowly(document, edits, figures)
        type_fast(document, bursts, figures)
        server.stop()
    finally:
        server.process.kill()
    report(figures, server_args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edits", type=int, default=40, help="single edits (and quick fixes) timed")
    parser.add_argument("--bursts", type=int, default=5, help="bursts of each kind")
    parser.add_argument("--server-arg", action="append", default=[], help="passed to `initaudit server`")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        run(args.edits, args.bursts, args.server_arg, Path(scratch))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
