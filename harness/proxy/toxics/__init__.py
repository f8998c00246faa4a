"""The toxics, one module each, registered by their Toxiproxy `type` name.

Importing this package imports every module in it, so a new toxic is a new file.
"""

import importlib
import pkgutil

from harness.proxy.toxics.base import (
    REGISTRY,
    CleanupToxic,
    StatefulToxic,
    Stub,
    Toxic,
    ValidatedToxic,
    wire_fields,
)
from harness.proxy.toxics.noop import NOOP

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["NOOP", "REGISTRY", "CleanupToxic", "StatefulToxic", "Stub", "Toxic", "ValidatedToxic", "wire_fields"]
