"""{{name}}: a floe transformer.

As generated, it upper-cases the string column named by the config key
``column`` (default ``name``) in the after image of every change. Replace
``transform`` with your own logic.
"""

from floe_guest import Keep, Transformer, export_transformer


class Plugin(Transformer):
    def __init__(self, config: dict):
        # Raise ValueError to refuse the configuration (floe reports the message).
        self.column = config.get("column", "name").strip()
        if not self.column:
            raise ValueError("config key `column` is empty")

    def transform(self, change):
        # Return Keep (with any modifications), Drop, Route("table") or Reject("why").
        value = change.after.get(self.column) if change.after else None
        if isinstance(value, str):
            change.after[self.column] = value.upper()
        return Keep


Lifecycle, Transform = export_transformer(Plugin)
