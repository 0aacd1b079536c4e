"""``initaudit model --html``: one self-contained page whose charts carry the audit's numbers."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from torch import nn

import initaudit
from initaudit.cli import main
from initaudit.report.audit_html import render_html

DEPTH = 20


def deep_xavier_before_relu() -> nn.Sequential:
    layers: list[nn.Module] = []
    for _ in range(DEPTH):
        linear = nn.Linear(128, 128)
        nn.init.xavier_normal_(linear.weight)
        nn.init.zeros_(linear.bias)
        layers += [linear, nn.ReLU()]
    return nn.Sequential(*layers)


class Page(HTMLParser):
    """What a test needs from the page: tags and attributes in order, and the chart data."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.data: dict = {}
        self._in_data = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_data = tag == "script" and dict(attrs).get("id") == "chart-data"

    def handle_data(self, data: str) -> None:
        if self._in_data:
            self.data = json.loads(data)
            self._in_data = False

    def ids(self) -> list[str]:
        return [attrs["id"] for _, attrs in self.tags if attrs.get("id")]

    def points(self, series: str) -> list[float]:
        return [float(attrs["data-value"]) for tag, attrs in self.tags
                if tag in ("circle", "rect") and attrs.get("data-series") == series]


@pytest.fixture(scope="module")
def page() -> Page:
    return Page(render_html(initaudit.audit(deep_xavier_before_relu())))


def test_the_collapse_shows_in_the_chart_data(page: Page) -> None:
    forward = page.data["signal"]["forward_std"]
    assert len(forward) == DEPTH
    # Xavier before ReLU halves the signal's power per layer: about 0.707x in std each time.
    assert forward[-1] / forward[0] < 0.707 ** (DEPTH - 1) * 4
    assert all(later < earlier for earlier, later in zip(forward, forward[1:]))
    std, needed = page.data["std"]["std"], page.data["std"]["expected_std"]
    assert all(0.6 < s / n < 0.8 for s, n in zip(std[1:], needed[1:]))
    assert page.points("forward std") == pytest.approx(forward, rel=1e-5)
    assert page.points("needed std") == pytest.approx(needed, rel=1e-5)
    assert len(page.points("backward gradient norm")) == DEPTH


def test_findings_come_first_then_charts_then_the_table(page: Page) -> None:
    ids = page.ids()
    assert ids.index("findings") < ids.index("std-chart") < ids.index("signal-chart") < ids.index("parameters")
    assert page.data["summary"]["warnings"] > 0


def test_nothing_is_loaded_from_anywhere(page: Page) -> None:
    for tag, attrs in page.tags:
        assert tag not in ("link", "img", "iframe", "object", "embed")
        assert "src" not in attrs and "href" not in attrs
        if tag == "script":
            assert attrs.get("type") == "application/json"
    text = render_html(initaudit.audit(deep_xavier_before_relu()))
    assert "url(" not in text and "@import" not in text and "@font-face" not in text


def test_zero_values_and_hostile_names() -> None:
    model = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8))
    nn.init.zeros_(model[0].weight)
    model.add_module("x</script><b>", nn.Linear(8, 8))
    page = Page(render_html(initaudit.audit(model)))
    assert 0.0 in page.points("std")
    assert not any(tag == "b" for tag, _ in page.tags)
    assert "x</script><b>.weight" in page.data["signal"]["labels"][-1] + ".weight"


def test_model_command_writes_the_page(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["model", "--factory", "examples.audit_models:bad_mlp", "--html", str(out)])
    assert result.exit_code == 1 and "parameters" in result.output
    page = Page(out.read_text())
    assert page.data["summary"]["warnings"] == 10
    unwritable = CliRunner().invoke(main, ["model", "--factory", "examples.audit_models:bad_mlp", "--html",
                                           str(tmp_path / "missing" / "r.html")])
    assert unwritable.exit_code == 2 and "initaudit: error: cannot write" in unwritable.output
    assert "Traceback" not in unwritable.output


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(_chromium() is None, reason="no headless Chromium installed")
def test_renders_in_a_headless_browser(tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    html.write_text(render_html(initaudit.audit(deep_xavier_before_relu())))
    shot = tmp_path / "report.png"
    subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run",
                    f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1000,1400",
                    f"--screenshot={shot}", html.as_uri()], capture_output=True, timeout=120, check=False)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1000, 1400)
    assert len(data) > 50_000  # text and two charts, not a blank page


class AxisNames(HTMLParser):
    """The names written under each chart's x axis, by chart id."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.names: dict[str, list[str]] = {}
        self._chart: str | None = None
        self._axis = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "svg":
            self._chart = found.get("id")
        self._axis = tag == "text" and "rotate(45)" in (found.get("transform") or "")

    def handle_data(self, data: str) -> None:
        if self._axis and self._chart is not None:
            self.names.setdefault(self._chart, []).append(data)
            self._axis = False


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.attention = nn.Sequential(nn.Linear(16, 16), nn.ReLU())
        self.feed_forward = nn.Sequential(nn.Linear(16, 16), nn.ReLU())

    def forward(self, x):  # type: ignore[no-untyped-def]
        return self.feed_forward(self.attention(x))


def test_deep_models_are_labelled_by_block_and_no_name_loses_its_head() -> None:
    deep = nn.Sequential(*(Block() for _ in range(30)))
    names = AxisNames(render_html(initaudit.audit(deep, input_shape=(4, 16)))).names
    assert names["std-chart"][:3] == ["0", "2", "4"]  # 60 weights: one name per block, thinned
    assert len(names["std-chart"]) <= 24
    shallow = nn.Sequential()
    shallow.add_module("encoder_with_a_long_name", nn.Sequential(Block(), Block()))
    names = AxisNames(render_html(initaudit.audit(shallow, input_shape=(4, 16)))).names["std-chart"]
    assert names[0] == "encoder_with_a_long_name.0.….weight"  # where it sits, then what it is
    assert all(not name.startswith("…") for name in names)
