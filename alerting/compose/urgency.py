"""How urgent a message looks: the coloured band at the top of every mail, and the word
its subject starts with.

Ⅰ 特别重大 is 特急 on red and Ⅱ 重大 is 紧急 on deep orange: a leader sees at a glance
that it cannot wait. Ⅲ 较大 is amber, Ⅳ 一般 a calm slate blue with no alarm word.
Messages about no incident (a digest, a source down) get the neutral band.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.vocabulary import Severity


@dataclass(frozen=True)
class Band:
    """The band's text and colours (background, text), and the subject's prefix."""

    text: str
    bg: str
    fg: str
    accent: str  # the heading's underline and the posts' left rule
    prefix: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"text": self.text, "bg": self.bg, "fg": self.fg, "accent": self.accent}


# Colours by gravity (Severity.rank: Ⅰ=4 … Ⅳ=1); white text only on the dark ones.
_COLOURS = {
    4: ("#b71c1c", "#ffffff"),
    3: ("#d84315", "#ffffff"),
    2: ("#f9a825", "#212121"),
    1: ("#546e7a", "#ffffff"),
}
NEUTRAL = Band("舆情监测系统", "#37474f", "#ffffff", "#607d8b")


def band(severity: str | None, kind_label: str = "") -> Band:
    """The band of a message about an incident of ``severity`` (``kind_label`` names the
    message: 舆情预警, 舆情报告 …)."""
    level = Severity.get(severity)
    if level is None:
        text = "　".join(x for x in (kind_label, Severity.label_of(None)) if x)
        return Band(text, NEUTRAL.bg, NEUTRAL.fg, NEUTRAL.accent)
    bg, fg = _COLOURS[level.rank]
    parts = [level.urgency, level.label, kind_label]
    return Band(
        "　".join(p for p in parts if p),
        bg,
        fg,
        bg,
        prefix=f"【{level.urgency}】" if level.urgency else "",
    )


def neutral(kind_label: str) -> Band:
    """The band of a message about no incident (digest, source health)."""
    return Band(kind_label or NEUTRAL.text, NEUTRAL.bg, NEUTRAL.fg, NEUTRAL.accent)


def subject_prefix(severity: str | None) -> str:
    """【特急】 for Ⅰ, 【紧急】 for Ⅱ, nothing below."""
    return band(severity).prefix
