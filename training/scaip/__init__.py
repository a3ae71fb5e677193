"""PyTorch reference implementation of AllScAIP for scaip-web (model, I/O, ASE calculator)."""
from .config import ModelConfigError, validate_config
from .io import load_model, read_config, save_model
from .model import AllScAIP, batch_structures

__all__ = ["AllScAIP", "ModelConfigError", "batch_structures", "load_model", "read_config", "save_model",
           "validate_config"]
