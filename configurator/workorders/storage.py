"""Where rendered work orders live: a local folder by default (STORAGE_DIR)."""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from flask import current_app

_SAFE_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,120}(/[A-Za-z0-9][A-Za-z0-9_.-]{0,120})*")


class LocalStorage:
    """Files under one folder, written atomically so a reader never sees half a PDF."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        if not _SAFE_KEY.fullmatch(key) or ".." in key:
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key

    def save(self, key: str, data: bytes) -> Path:
        """Write (or replace) one file: rendering twice leaves one file, never a partial one."""
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                # on disk before it takes the name: no empty PDF after a crash
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    def read(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()


def work_order_key(unit_code: str) -> str:
    """One file per unit, grouped by the month part of its code (U-2611-000123)."""
    month = unit_code.split("-")[1] if unit_code.count("-") >= 2 else "other"
    return f"workorders/{month}/{unit_code}.pdf"


def storage() -> LocalStorage:
    return LocalStorage(current_app.config["STORAGE_DIR"])
