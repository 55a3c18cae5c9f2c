"""Look of every figure: the Agg backend, black-and-white-safe series styles, labels in English or Korean.

Each series differs in line style, marker or hatch as well as colour, so a figure printed in black
and white stays readable. Korean labels need a font with Hangul glyphs: `Style("ko")` looks for
one (or takes the font named by the SCSIM_FONT environment variable) and, finding none, warns
once and draws English labels with matplotlib's default font.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display, no GUI toolkit: figures are files

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from simulation.io import write_via  # noqa: E402

LANGS = ("en", "ko")

# colour-blind-safe colours of decreasing darkness, each paired with a line style, marker and hatch
COLORS = ("#000000", "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#999999")
LINESTYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 3)), (0, (8, 2)), (0, (3, 1, 1, 1)))
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
HATCHES = ("", "///", "...", "xxx", "\\\\\\", "+++", "ooo", "---")
FILLS = ("#d9d9d9", "#bdbdbd", "#f0f0f0", "#969696", "#ffffff", "#e0e0e0", "#737373", "#fafafa")

# fonts with Hangul glyphs, in order of preference
CJK_FONTS = (
    "Noto Sans CJK KR",
    "Noto Sans KR",
    "Source Han Sans KR",
    "NanumGothic",
    "NanumBarunGothic",
    "Malgun Gothic",
    "Apple SD Gothic Neo",
    "AppleGothic",
    "UnDotum",
    "Baekmuk Gulim",
    "Noto Serif CJK KR",
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
)

KO: dict[str, str] = {
    "Year": "연도",
    "Export win rate (Korean wins / Korean bids)": "수출 수주율 (한국 수주 / 한국 입찰)",
    "Win rate": "수주율",
    "mean of {n}, band: 95 % CI": "평균 ({n}), 음영: 95 % 신뢰구간",
    "Value won (USD m)": "수주액 (백만 달러)",
    "Value won by lead firm size": "주관사 규모별 수주액",
    "SME share of value won": "중소기업·스타트업 수주액 비중",
    "SME share": "중소기업 비중",
    "Value won over the horizon (USD m)": "전 기간 수주액 (백만 달러)",
    "by region": "지역별",
    "by OECD country-risk class": "OECD 국가신용등급별",
    "risk class {k}": "{k}등급",
    "Paired difference against {baseline} over the horizon, 95 % CI": "{baseline} 대비 짝지은 차이 (전 기간, 95 % 신뢰구간)",
    "open marker: CI includes zero": "속이 빈 표시: 신뢰구간이 0을 포함",
    "difference": "차이",
    "Public cost (KRW bn)": "공공비용 (십억 원)",
    "Value won (KRW bn)": "수주액 (십억 원)",
    "Public cost against value won": "공공비용 대비 수주액",
    "Pareto front": "파레토 전선",
    "on the front": "전선 위",
    "dominated": "열위",
    "Sobol indices": "Sobol 민감도 지수",
    "first order S1": "1차 지수 S1",
    "total ST": "총 지수 ST",
    "Morris screening": "Morris 선별",
    "mu* (mean |elementary effect|)": "μ* (기본효과 절댓값 평균)",
    "sigma": "σ (표준편차)",
    "PIS smart-city fund": "PIS 스마트시티 펀드",
    "New commitments (KRW bn)": "신규 투자약정 (십억 원)",
    "NAV (KRW bn)": "순자산가치 (십억 원)",
    "Cumulative losses (KRW bn)": "누적 손실 (십억 원)",
    "loss order: {order}": "손실 분담: {order}",
    "subordinated": "후순위",
    "pari_passu": "동순위",
    # groups
    "large": "대기업",
    "mid": "중견기업",
    "sme": "중소기업",
    "startup": "스타트업",
    "government": "정부",
    "public": "공공",
    "private": "민간",
    "asean": "아세안",
    "east_south_asia": "동·남아시아",
    "middle_east": "중동",
    "central_asia": "중앙아시아",
    "latin_america": "중남미",
    "africa": "아프리카",
    "europe": "유럽",
    "north_america_oceania": "북미·오세아니아",
    # metrics and outcomes
    "win rate": "수주율",
    "wins": "수주 건수",
    "value won": "수주액",
    "SME share of value": "중소기업 수주액 비중",
    "public cost": "공공비용",
    "value per public KRW": "공공비용 1원당 수주액",
    "extra value per extra KRW": "추가 공공비용 1원당 추가 수주액",
    "value_won_krw_bn": "수주액 (십억 원)",
    "public_cost_krw_bn": "공공비용 (십억 원)",
    "value_per_public_krw": "공공비용 1원당 수주액",
    "win_rate": "수주율",
    "sme_share_value": "중소기업 수주액 비중",
}

EN: dict[str, str] = {
    "large": "large",
    "mid": "mid-size",
    "sme": "SME",
    "startup": "startup",
    "asean": "ASEAN",
    "east_south_asia": "East & South Asia",
    "middle_east": "Middle East",
    "central_asia": "Central Asia",
    "latin_america": "Latin America",
    "africa": "Africa",
    "europe": "Europe",
    "north_america_oceania": "N. America & Oceania",
    "subordinated": "subordinated",
    "pari_passu": "pari passu",
    "value_won_krw_bn": "value won (KRW bn)",
    "public_cost_krw_bn": "public cost (KRW bn)",
    "value_per_public_krw": "value per public KRW",
    "win_rate": "win rate",
    "sme_share_value": "SME share of value",
}


class FontWarning(UserWarning):
    """No font with Korean glyphs: English labels are drawn instead."""


def find_cjk_font() -> str | None:
    """The first installed font with Hangul glyphs (SCSIM_FONT first, if set and installed), or None."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    wanted = [os.environ["SCSIM_FONT"]] if os.environ.get("SCSIM_FONT") else []
    return next((name for name in [*wanted, *CJK_FONTS] if name in installed), None)


@dataclass
class Style:
    """Labels and fonts for one set of figures. `lang` is "en" (default) or "ko"."""

    lang: str = "en"
    font: str | None = None
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.lang not in LANGS:
            raise ValueError(f"lang must be one of {LANGS}, got {self.lang!r}")
        if self.lang == "ko":
            self.font = find_cjk_font()
            if self.font is None:
                msg = (
                    "no font with Korean glyphs is installed (looked for SCSIM_FONT and "
                    f"{', '.join(CJK_FONTS[:5])}, ...); figures use English labels and the default font. "
                    "Install one, e.g. `apt-get install fonts-noto-cjk` or `fonts-nanum`, for Korean labels"
                )
                warnings.warn(msg, FontWarning, stacklevel=2)
                self.notes.append(msg)
                self.lang = "en"

    def t(self, text: str, **kw: Any) -> str:
        """`text` in this style's language (English if no translation), formatted with `kw`."""
        table = KO if self.lang == "ko" else EN
        return table.get(text, text).format(**kw) if kw else table.get(text, text)

    def rc(self) -> dict[str, Any]:
        """matplotlib settings for `plt.rc_context`."""
        rc: dict[str, Any] = {
            "font.size": 9,
            "axes.titlesize": 10,
            "axes.labelsize": 9,
            "legend.fontsize": 8,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.color": "#dddddd",
            "grid.linewidth": 0.6,
            "hatch.linewidth": 0.6,
            "svg.hashsalt": "scsim",
            "svg.fonttype": "path",
            "figure.dpi": 100,
            "savefig.dpi": 150,
            "axes.unicode_minus": False,
        }
        if self.font:
            rc["font.family"] = [self.font, "DejaVu Sans"]
        return rc


def series(i: int) -> dict[str, Any]:
    """Line properties of the i-th series: colour, line style and marker all differ."""
    k = i % len(COLORS)
    return {"color": COLORS[k], "linestyle": LINESTYLES[k], "marker": MARKERS[k], "markersize": 4, "linewidth": 1.4}


def bars(i: int) -> dict[str, Any]:
    """Bar properties of the i-th series: grey fill, hatch and coloured edge all differ."""
    k = i % len(HATCHES)
    return {"facecolor": FILLS[k], "hatch": HATCHES[k], "edgecolor": COLORS[k % len(COLORS)], "linewidth": 0.8}


def new_figure(width: float, height: float) -> Figure:
    """A figure with constrained layout (draw inside `plt.rc_context(style.rc())`)."""
    return plt.figure(figsize=(width, height), layout="constrained")


def settle(fig: Figure) -> None:
    """Lay the figure out and keep that layout for every format, with nothing past the canvas.

    Constrained layout leaves out a tick label that sticks out beside an axis (a "175" centred on
    the right end of the rightmost panel was cut in half), so the area it lays out in is narrowed
    by whatever still overflows, until nothing does. It is laid out at the PNG's resolution, and
    keeps a margin of 1 % of each side clear: text is measured with hinting at each resolution and
    unhinted in SVG, a few pixels apart, which was enough to cut the end off the forest plot's
    numbers. A side whose overflow narrowing does not reduce is left as it is: a suptitle or
    supxlabel sits at constrained layout's own padding from the canvas edge, wherever the area is
    (laying the figure out again for it only squeezed the panels, at half a second a round for the
    forest plot's 20 axes). The engine is then removed: with any layout engine left, savefig would
    lay the figure out again."""
    fig.set_dpi(float(plt.rcParams["savefig.dpi"]) if plt.rcParams["savefig.dpi"] != "figure" else fig.dpi)
    fig.draw_without_rendering()
    engine = fig.get_layout_engine()
    w, h = fig.get_size_inches()
    mx, my = 0.01 * w, 0.01 * h
    left = bottom = 0.0
    right = top = 1.0
    stuck = [False] * 4  # sides whose overflow a narrower area did not reduce
    before: tuple[float, ...] = (math.inf,) * 4
    for _ in range(5):
        if engine is None or not hasattr(engine, "set"):
            break
        box = fig.get_tightbbox(fig.canvas.get_renderer())
        raw = (max(0.0, mx - box.x0), max(0.0, my - box.y0), max(0.0, box.x1 - (w - mx)), max(0.0, box.y1 - (h - my)))
        stuck = [s or (o > 0 and o >= b - 0.5 / fig.dpi) for s, o, b in zip(stuck, raw, before, strict=True)]
        before = raw
        over = tuple(0.0 if s else o for s, o in zip(stuck, raw, strict=True))
        if max(over) <= 0.5 / fig.dpi:
            break
        left, bottom = left + over[0] / w, bottom + over[1] / h
        right, top = right - over[2] / w, top - over[3] / h
        engine.set(rect=(left, bottom, right - left, top - bottom))
        fig.draw_without_rendering()
    fig.set_layout_engine(None)


def save(fig: Figure, stem: Path, style: Style) -> list[Path]:
    """Write `stem`.png and `stem`.svg, each whole or not at all; close the figure."""
    out = []
    try:
        with plt.rc_context(style.rc()):
            settle(fig)
            for ext, meta in (("png", {"Software": None}), ("svg", {"Date": None, "Creator": None})):
                final = stem.with_suffix(f".{ext}")
                write_via(final, lambda tmp, ext=ext, meta=meta: fig.savefig(tmp, format=ext, metadata=meta))
                out.append(final)
    finally:
        plt.close(fig)
    return out
