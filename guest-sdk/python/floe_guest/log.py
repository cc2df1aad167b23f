"""Logging through floe's log (the host import ``log``).

Lines are tagged by floe with the plugin's name and version::

    from floe_guest import log
    log.info("masking %d columns" % len(columns))

Every call is a host call: log per batch or on errors, not per change.
"""

from ._wit import host as _host

__all__ = ["trace", "debug", "info", "warn", "warning", "error"]


def trace(message: str) -> None:
    """Logs ``message`` at level trace."""
    _host.log(_host.Level.TRACE, str(message))


def debug(message: str) -> None:
    """Logs ``message`` at level debug."""
    _host.log(_host.Level.DEBUG, str(message))


def info(message: str) -> None:
    """Logs ``message`` at level info."""
    _host.log(_host.Level.INFO, str(message))


def warn(message: str) -> None:
    """Logs ``message`` at level warn."""
    _host.log(_host.Level.WARN, str(message))


warning = warn


def error(message: str) -> None:
    """Logs ``message`` at level error."""
    _host.log(_host.Level.ERROR, str(message))
