"""Keep versioned models on disk: `<data_dir>/models/<scenario>/v<N>/`.

Each version holds `model.joblib` (the fitted pipeline) and `meta.json` (metrics, features,
the training data description, created_at, library versions). A version is written into a
temporary folder and renamed into place, so readers never see half a version.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path

import joblib
import sklearn

SCENARIO_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_VERSION_DIR = re.compile(r"^v(\d+)$")
MODEL_FILE, META_FILE = "model.joblib", "meta.json"


def _json_safe(value):
    """Replace NaN and infinities (not JSON) by None, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        return _json_safe(value.item())
    return value


class ModelRegistry:
    """Save, list and load model versions of each scenario under a data directory."""

    def __init__(self, data_dir):
        self.root = Path(data_dir) / "models"
        self._lock = threading.Lock()

    def _scenario_dir(self, scenario: str) -> Path:
        if not SCENARIO_NAME.match(scenario or ""):
            raise ValueError(f"invalid scenario name {scenario!r}")
        return self.root / scenario

    def _numbers(self, scenario: str) -> list[int]:
        folder = self._scenario_dir(scenario)
        if not folder.is_dir():
            return []
        found = (_VERSION_DIR.match(p.name) for p in folder.iterdir() if p.is_dir())
        return sorted(int(m.group(1)) for m in found if m)

    def save(self, scenario: str, model, meta: dict) -> dict:
        """Store a new version; return its meta (with `version`, `created_at`, `path`)."""
        folder = self._scenario_dir(scenario)
        folder.mkdir(parents=True, exist_ok=True)
        with self._lock:
            staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=folder))
            try:
                joblib.dump(model, staging / MODEL_FILE)
                while True:
                    version = (self._numbers(scenario) or [0])[-1] + 1
                    full = _json_safe(
                        {
                            **meta,
                            "scenario": scenario,
                            "version": version,
                            "created_at": datetime.datetime.now(datetime.UTC).isoformat(
                                timespec="seconds"
                            ),
                            "sklearn_version": sklearn.__version__,
                        }
                    )
                    (staging / META_FILE).write_text(
                        json.dumps(full, ensure_ascii=False, indent=2), encoding="utf-8"
                    )
                    target = folder / f"v{version}"
                    try:
                        os.rename(staging, target)  # fails if another process took it
                        break
                    except OSError:
                        if not target.exists():
                            raise
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
        return {**full, "path": str(target)}

    def versions(self, scenario: str) -> list[dict]:
        """Return the meta of every version of a scenario, oldest first."""
        folder = self._scenario_dir(scenario)
        out = []
        for number in self._numbers(scenario):
            meta_path = folder / f"v{number}" / META_FILE
            if meta_path.exists():
                meta = json.loads(meta_path.read_text(encoding="utf-8"))
                out.append({**meta, "path": str(meta_path.parent)})
        return out

    def latest(self, scenario: str) -> dict | None:
        """Return the meta of the newest version, or None when there is none."""
        versions = self.versions(scenario)
        return versions[-1] if versions else None

    def load(self, scenario: str, version: int | None = None):
        """Return (model, meta) of a version, the newest by default; KeyError if absent."""
        numbers = self._numbers(scenario)
        if version is None:
            if not numbers:
                raise KeyError(f"no model for scenario {scenario!r}")
            version = numbers[-1]
        folder = self._scenario_dir(scenario) / f"v{int(version)}"
        if not (folder / META_FILE).exists():
            raise KeyError(f"no version {version} of scenario {scenario!r}")
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
        return joblib.load(folder / MODEL_FILE), {**meta, "path": str(folder)}
