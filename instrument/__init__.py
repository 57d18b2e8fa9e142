"""The questionnaire side of intangibles: item bank, forms, exports, returned workbooks."""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_API = {
    "load_bank": "bank",
    "BankError": "bank",
    "load_form": "form",
    "FormError": "form",
    "read_returns": "returns",
    "Problem": "model",
    "ResponseSet": "model",
    "Item": "model",
    "Facet": "model",
    "Construct": "model",
    "ItemBank": "model",
    "Form": "model",
}

__all__ = sorted(_API)


def __getattr__(name: str):
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'instrument' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"instrument.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
