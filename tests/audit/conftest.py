from __future__ import annotations

import warnings

import pytest

torch = pytest.importorskip("torch")
warnings.filterwarnings("ignore", message="Failed to initialize NumPy")


@pytest.fixture(autouse=True)
def _seeded() -> None:
    torch.manual_seed(0)
