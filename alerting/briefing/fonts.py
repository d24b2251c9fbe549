"""The CJK fonts the briefing is set in, found through fontconfig.

WeasyPrint (through Pango) and matplotlib each pick fonts their own way, and both fall back
silently to a Latin font that prints Chinese as empty boxes (豆腐块). So the briefing asks
fontconfig once for a font that really covers Chinese, names it in the CSS, registers its file with
matplotlib, and refuses to render at all when there is none (:class:`FontMissingError`).

``fc-match`` always answers with *some* font, so its answer is only trusted when ``fc-list
:lang=zh`` lists that file too. A serif face (宋体-like, for the title and body) is preferred and a
sans face (黑体-like, for headings and charts) is used for both when it is the only one.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache

from pipeline.errors import YuqingError

__all__ = ["CjkFonts", "Face", "FontMissingError", "cjk_fonts", "register_matplotlib"]

FIX = (
    "run deploy/setup-system, or as root: "
    "apt-get install -y --no-install-recommends fonts-noto-cjk (fonts-wqy-zenhei also works)"
)


class FontMissingError(YuqingError):
    """No font covering Chinese is installed, so the briefing would print boxes; says how to fix."""


@dataclass(frozen=True)
class Face:
    """One font: its fontconfig family name (used in CSS and matplotlib) and its file."""

    family: str
    path: str


@dataclass(frozen=True)
class CjkFonts:
    """The faces the briefing uses; ``serif`` is ``sans`` when no CJK serif face exists."""

    serif: Face
    sans: Face

    def css_stack(self, generic: str) -> str:
        """A CSS ``font-family`` value, the found face first, then common CJK names."""
        first = self.serif if generic == "serif" else self.sans
        names = [first.family, self.sans.family, "Noto Serif CJK SC", "Source Han Serif SC",
                 "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei"]
        unique = list(dict.fromkeys(names))
        return ", ".join(f'"{name}"' for name in unique) + f", {generic}"


def _fc(*args: str) -> str:
    tool = shutil.which(args[0])
    if tool is None:
        raise FontMissingError(f"fontconfig's {args[0]} is not installed, so no CJK font can be found: {FIX}")
    done = subprocess.run([tool, *args[1:]], capture_output=True, text=True, timeout=30, check=False)
    return done.stdout


def _chinese_files() -> set[str]:
    return {line.strip() for line in _fc("fc-list", "-f", "%{file}\n", ":lang=zh").splitlines() if line.strip()}


def _match(pattern: str, chinese: set[str]) -> Face | None:
    out = _fc("fc-match", "-f", "%{family[0]}\t%{file}", pattern).strip()
    family, _, path = out.partition("\t")
    return Face(family, path) if path in chinese and family else None


@lru_cache(maxsize=1)
def cjk_fonts() -> CjkFonts:
    """The CJK faces of this machine; raises :class:`FontMissingError` when there are none.

    Cached for the process: install a font and restart the service to pick it up.
    """
    chinese = _chinese_files()
    if not chinese:
        raise FontMissingError(f"no CJK font installed (fc-list :lang=zh is empty): {FIX}")
    sans = _match("sans-serif:lang=zh-cn", chinese) or _match(":lang=zh-cn", chinese)
    if sans is None:
        # fontconfig knows Chinese fonts but matches none by name: take one of them by its file
        path = sorted(chinese)[0]
        family = _fc("fc-query", "-f", "%{family[0]}\n", path).splitlines()
        sans = Face(family[0] if family else "sans-serif", path)
    serif = _match("serif:lang=zh-cn", chinese) or sans
    return CjkFonts(serif=serif, sans=sans)


_registered: set[str] = set()


def register_matplotlib() -> str:
    """Make matplotlib know the sans CJK face; returns the family name to put in ``font.family``.

    ``addfont`` registers every face of a ``.ttc`` collection; the fontconfig family is used when
    matplotlib lists it, otherwise the first face of the file.
    """
    # deferred: matplotlib takes about half a second to import; only the charts need it
    from matplotlib import font_manager

    face = cjk_fonts().sans
    if face.path not in _registered:
        font_manager.fontManager.addfont(face.path)
        _registered.add(face.path)
    names = [f.name for f in font_manager.fontManager.ttflist if f.fname == face.path]
    if face.family in names or not names:
        return face.family
    return names[0]
