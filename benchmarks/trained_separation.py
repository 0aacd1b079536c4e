"""How far apart trained weights and untrained inits lie on the two statistics that recognise
trained weights (initaudit/auditor/measure/training_evidence.py), and the margin the thresholds leave.

Untrained: every init scheme of knowledge.py in a range of shapes and dtypes, several seeds.
Trained: an MLP, a small CNN and a small Transformer trained here on synthetic tasks for 50
and 300 steps of Adam and of SGD. Prints, per group, the largest evidence of any untrained
tensor and the per-model median evidence of trained weight matrices (what trained.py judges).

    python benchmarks/trained_separation.py
"""

from __future__ import annotations

import math
import statistics
import time

import torch
from torch import nn

from initaudit.auditor.identify import trained
from initaudit.auditor.measure.tensorstats import tensor_stats
from initaudit.auditor.pipeline import audit_module

SHAPES = ((8, 8), (8, 32), (16, 27), (64, 64), (10, 512), (128, 784), (784, 128), (512, 2048),
          (1024, 64), (16, 3, 3, 3), (64, 32, 3, 3))
INITS = {
    "pytorch_default": lambda t: nn.init.kaiming_uniform_(t, a=math.sqrt(5)),
    "xavier_uniform": nn.init.xavier_uniform_, "xavier_normal": nn.init.xavier_normal_,
    "kaiming_uniform": lambda t: nn.init.kaiming_uniform_(t, nonlinearity="relu"),
    "kaiming_normal_fan_out": lambda t: nn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"),
    "normal_0.02": lambda t: nn.init.normal_(t, std=0.02), "normal_1": nn.init.normal_,
    "trunc_normal_2sigma": lambda t: nn.init.trunc_normal_(t, std=0.02, a=-0.04, b=0.04),
    "trunc_normal_1sigma": lambda t: nn.init.trunc_normal_(t, std=0.02, a=-0.02, b=0.02),
    "uniform_0_1": nn.init.uniform_, "orthogonal": nn.init.orthogonal_,
    "sparse": lambda t: nn.init.sparse_(t.view(t.shape[0], -1), 0.3),
}


def _evidence(spike: float, misfit: float) -> float:
    return max((spike - 1) / (trained.STRONG_SPIKE - 1), misfit / trained.STRONG_MISFIT, 0.0)


def _untrained(seeds: int = 5) -> tuple[float, float, float, float]:
    """Largest spike, misfit and combined evidence over every init, shape, dtype and seed, and
    the largest median evidence of one init's tensors of all shapes (as one model)."""
    spike = misfit = model_median = 0.0
    for seed in range(seeds):
        torch.manual_seed(seed)
        for function in INITS.values():
            scores = []
            for shape in SHAPES:
                for dtype in (torch.float32, torch.bfloat16, torch.float16):
                    tensor = torch.empty(shape)
                    function(tensor)
                    stats = tensor_stats(tensor.to(dtype), seed)
                    spike = max(spike, stats.spike or 0.0)
                    misfit = max(misfit, stats.misfit or 0.0)
                    scores.append(_evidence(stats.spike or 0.0, stats.misfit or 0.0))
            model_median = max(model_median, statistics.median(scores))
    return spike, misfit, _evidence(spike, misfit), model_median


def _mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))


def _cnn() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Linear(512, 10))


class _Transformer(nn.Module):
    def __init__(self, vocabulary: int = 50, width: int = 64) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocabulary, width)
        self.position = nn.Parameter(torch.randn(16, width) * 0.02)
        layer = nn.TransformerEncoderLayer(width, 4, 2 * width, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2)
        self.head = nn.Linear(width, vocabulary)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(self.embed(ids) + self.position[: ids.shape[1]]))


def _tasks(generator: torch.Generator):  # type: ignore[no-untyped-def]
    teacher = torch.randn(64, 10, generator=generator)
    patterns = torch.randn(10, 3, 16, 16, generator=generator)
    chain = torch.softmax(torch.randn(50, 50, generator=generator) * 3, 1)

    def mlp_batch():  # type: ignore[no-untyped-def]
        x = torch.randn(128, 64, generator=generator)
        return x, (x @ teacher).argmax(1)

    def cnn_batch():  # type: ignore[no-untyped-def]
        labels = torch.randint(0, 10, (64,), generator=generator)
        return patterns[labels] + 0.8 * torch.randn(64, 3, 16, 16, generator=generator), labels

    def markov_batch():  # type: ignore[no-untyped-def]
        ids = torch.empty(32, 13, dtype=torch.long)
        ids[:, 0] = torch.randint(0, 50, (32,), generator=generator)
        for i in range(1, 13):
            ids[:, i] = torch.multinomial(chain[ids[:, i - 1]], 1, generator=generator)[:, 0]
        return ids[:, :-1], ids[:, 1:]

    return {"mlp": (_mlp, mlp_batch), "cnn": (_cnn, cnn_batch), "transformer": (_Transformer, markov_batch)}


def _trained_rows() -> list[tuple[str, float, float, int, int]]:
    rows = []
    for optimiser_name in ("adam", "sgd"):
        for steps in (50, 300):
            generator = torch.Generator().manual_seed(1)
            for name, (build, batch) in _tasks(generator).items():
                torch.manual_seed(1)
                model = build()
                optimiser = (torch.optim.Adam(model.parameters(), 1e-3) if optimiser_name == "adam"
                             else torch.optim.SGD(model.parameters(), 0.05, momentum=0.9))
                for _ in range(steps):
                    x, y = batch()
                    out = model(x)
                    loss = nn.functional.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
                    optimiser.zero_grad()
                    loss.backward()
                    optimiser.step()
                report = audit_module(model)
                scores = [trained.evidence(p) for p in report.parameters if len(p.shape) >= 2]
                marked = sum(p.trained for p in report.parameters)
                rows.append((f"{name} {optimiser_name} {steps} steps", statistics.median(scores), min(scores),
                             marked, len(report.parameters)))
    return rows


def main() -> None:
    torch.set_num_threads(1)
    start = time.perf_counter()
    spike, misfit, evidence, untrained_median = _untrained()
    print(f"untrained inits ({len(INITS)} schemes x {len(SHAPES)} shapes x 3 dtypes x 5 seeds): "
          f"max spike {spike:.3f}, max misfit {misfit:.3f}, max evidence {evidence:.3f} "
          f"(a tensor is trained from 1.0: {1 / evidence:.2f}x margin); largest median of one "
          f"init's tensors {untrained_median:.3f} (a model is trained from {trained.MODEL_EVIDENCE}: "
          f"{trained.MODEL_EVIDENCE / untrained_median:.2f}x margin)")
    rows = _trained_rows()
    for label, median, lowest, marked, total in rows:
        print(f"{label:28s} median evidence {median:6.2f}  lowest matrix {lowest:5.2f}  "
              f"recognised {marked}/{total} tensors")
    models = sorted(median for _, median, _, _, _ in rows)
    print(f"trained-model medians {models[0]:.2f} to {models[-1]:.2f}, "
          f"{sum(m >= trained.MODEL_EVIDENCE for m in models)}/{len(models)} models recognised as trained; "
          f"highest untrained median {untrained_median:.2f}  ({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
