"""English and Hindi for the desktop app, through Qt's own translation files.

The translations are kept as Qt Linguist sources (``translations/station_<lang>.ts``) in the repository; the
binary ``.qm`` that ``QTranslator`` loads is compiled from them with ``lrelease`` (shipped in the
PySide6 wheel) into a cache folder the first time a language is chosen, and again whenever the
source is newer, so a translator only ever edits the ``.ts`` file.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QTranslator

log = logging.getLogger(__name__)

I18N_DIR = Path(__file__).resolve().parent / "translations"
LANGUAGES = {"en": "English", "hi": "हिन्दी"}


def _cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "enrolment-station" / "i18n"


def _lrelease() -> str | None:
    here = Path(sys.executable).parent
    for candidate in (here / "pyside6-lrelease", shutil.which("pyside6-lrelease"), shutil.which("lrelease")):
        if candidate and Path(candidate).exists():
            return str(candidate)
    return None


def compiled_translation(lang: str) -> Path | None:
    """Path of an up-to-date ``.qm`` for ``lang``, compiling it if needed; None for English."""
    if lang == "en":
        return None
    source = I18N_DIR / f"station_{lang}.ts"
    if not source.is_file():
        raise ValueError(f"no translation for language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    target = _cache_dir() / f"station_{lang}.qm"
    if target.is_file() and target.stat().st_mtime >= source.stat().st_mtime:
        return target
    tool = _lrelease()
    if tool is None:
        raise RuntimeError("pyside6-lrelease not found: reinstall PySide6-Essentials (make setup)")
    target.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run([tool, "-silent", str(source), "-qm", str(target)], capture_output=True, text=True)
    if result.returncode != 0 or not target.is_file():
        raise RuntimeError(f"could not compile {source.name}: {result.stderr.strip() or result.stdout.strip()}")
    return target


class LanguageSwitcher:
    """Installs one translator at a time on the running application."""

    def __init__(self, app: QCoreApplication) -> None:
        self.app = app
        self.translator: QTranslator | None = None
        self.language = "en"

    def switch(self, lang: str) -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}")
        if self.translator is not None:
            self.app.removeTranslator(self.translator)
            self.translator = None
        qm = compiled_translation(lang)
        if qm is not None:
            translator = QTranslator(self.app)
            if not translator.load(str(qm)):
                raise RuntimeError(f"Qt could not load the translation {qm}")
            self.app.installTranslator(translator)
            self.translator = translator
        self.language = lang
        log.info("language switched to %s", lang)
