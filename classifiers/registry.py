"""Where models live and which one is used.

Models are folders named by version. Two places are searched, the first that has it wins:
``DATA_DIR/models/`` (trained on this machine by ``yuqing model train``) and ``classifiers/models/``
(shipped with yuqing). Each place may have a ``CURRENT`` file naming its default version; the data
dir's default wins, so an office that retrains keeps its own model across upgrades.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from classifiers.model import TextModel
from pipeline.errors import ConfigError


def shipped_dir() -> Path:
    return Path(str(resources.files("classifiers") / "models"))


def places(data_dir: Path | None) -> list[Path]:
    found = [data_dir / "models"] if data_dir else []
    return found + [shipped_dir()]


def resolve(version: str | None, data_dir: Path | None) -> Path:
    """The folder of ``version`` (None: the default); ConfigError says what exists otherwise."""
    if version is None:
        for place in places(data_dir):
            current = place / "CURRENT"
            if current.exists():
                version = current.read_text(encoding="utf-8").strip()
                break
        else:
            raise ConfigError("no default model: train one with `yuqing model train`")
    for place in places(data_dir):
        if (place / version / "metadata.json").exists():
            return place / version
    known = ", ".join(sorted(list_versions(data_dir))) or "none"
    raise ConfigError(f"model {version!r} not found in {', '.join(map(str, places(data_dir)))}; "
                      f"known versions: {known}")


def list_versions(data_dir: Path | None) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for place in reversed(places(data_dir)):
        if place.is_dir():
            for d in place.iterdir():
                if (d / "metadata.json").exists():
                    out[d.name] = d
    return out


def load(version: str | None = None, data_dir: Path | None = None) -> TextModel:
    path = resolve(version, data_dir)
    try:
        return TextModel.load(path)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def set_default(place: Path, version: str) -> None:
    place.mkdir(parents=True, exist_ok=True)
    (place / "CURRENT").write_text(version + "\n", encoding="utf-8")
