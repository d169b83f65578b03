"""gesture-audit: find ballot-number hand signs and candidates in photos.

The package reads as the pipeline: load -> detect -> classify -> judge -> report.
Heavy imports are lazy so that `gesture-audit --version` answers at once.
"""

__version__ = "0.1.0"

_LAZY = {
    "ImageLoadError": "gesture_audit.load",
    "load_image": "gesture_audit.load",
    "Engine": "gesture_audit.detect.engine",
    "EngineOptions": "gesture_audit.detect.engine",
    "Hand": "gesture_audit.detect.core",
    "Auditor": "gesture_audit.audit",
    "Decoded": "gesture_audit.audit",
    "Finding": "gesture_audit.results",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'gesture_audit' has no attribute {name!r}")


__all__ = ["__version__", *_LAZY]
