"""Stack backends: bring a compose stack up, look inside it, act on it, take it down."""

from harness.stack.base import Endpoint, ProcessInfo, StackBackend
from harness.stack.compose import load_compose
from harness.stack.compose_model import ComposeProject, Service
from harness.stack.local import LocalBackend

__all__ = ["ComposeProject", "Endpoint", "LocalBackend", "ProcessInfo", "Service", "StackBackend", "load_compose"]
