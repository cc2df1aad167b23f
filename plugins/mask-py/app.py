"""mask-py: masks columns by hashing or redacting them (the Python twin of `mask`).

Config:
  columns      comma-separated column names (required)
  mode         "hash" (default) or "redact"
  salt         required for hash: value -> lowercase hex SHA-256(salt UTF-8 ‖ value's
               bytes in the WIT column encoding); the column becomes a string
  replacement  redact: what string values become (default "***"); values of other
               types become NULL (type unchanged)

NULL stays NULL and a column missing from an image stays missing; both the
before and the after image are masked.
"""

import hashlib

from floe_guest import STRING, Change, Keep, Transformer, export_transformer, log


class Mask(Transformer):
    """Hashes or redacts the configured columns of every change."""

    def __init__(self, config: dict):
        columns = config.get("columns")
        if columns is None:
            raise ValueError("mask: `columns` is required (comma-separated column names)")
        # Trimmed, empty entries skipped, each name once (a name listed twice is masked once).
        self.columns = list(dict.fromkeys(c.strip() for c in columns.split(",") if c.strip()))
        if not self.columns:
            raise ValueError("mask: `columns` names no column")
        self.mode = config.get("mode", "hash")
        if self.mode == "hash":
            salt = config.get("salt")
            if salt is None:
                raise ValueError("mask: `salt` is required when mode = \"hash\"")
            self.salted = hashlib.sha256(salt.encode("utf-8"))
        elif self.mode == "redact":
            self.replacement = config.get("replacement", "***").encode("utf-8")
        else:
            raise ValueError(f"mask: unknown mode {self.mode!r} (expected \"hash\" or \"redact\")")
        log.info(f"mask: {self.mode} {', '.join(self.columns)}")

    def transform(self, change: Change):
        hashing = self.mode == "hash"
        for image in (change.before, change.after):
            if not image:
                continue
            for name in self.columns:
                entry = image.lookup(name)  # (type, raw bytes or None), None when absent
                if entry is None or entry[1] is None:
                    continue  # absent stays absent, NULL stays NULL
                ctype, raw = entry
                if hashing:
                    h = self.salted.copy()
                    h.update(raw)
                    image.set_raw(name, h.hexdigest().encode("ascii"), STRING)
                elif ctype == STRING:
                    image.set_raw(name, self.replacement)
                else:
                    image.set_null(name)
        return Keep


Lifecycle, Transform = export_transformer(Mask)
