"""Loading and saving models in our format: model.json + weights.safetensors (docs/model-format.md)."""
import json
import os

import torch

from .config import OPTIONAL_ARCHITECTURE_KEYS, ModelConfigError, validate_config
from .model import AllScAIP
from .safetensors import load_file, save_file


def _resolve(model_dir_or_json):
    path = os.fspath(model_dir_or_json)
    if os.path.isdir(path):
        return os.path.join(path, "model.json")
    return path


def read_config(model_dir_or_json):
    path = _resolve(model_dir_or_json)
    try:
        with open(path) as f:
            raw = json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no model.json there") from None
    except json.JSONDecodeError as err:
        raise ModelConfigError(f"{path}: not valid JSON (line {err.lineno}: {err.msg})") from None
    try:
        return validate_config(raw)
    except ModelConfigError as err:
        raise ModelConfigError(f"{path}: {err}") from None


def load_state(model, tensors, where):
    """Copy named tensors into the model, naming any missing, unexpected or mis-shaped tensor."""
    own = model.state_dict()
    missing = sorted(set(own) - set(tensors))
    extra = sorted(set(tensors) - set(own))
    if missing or extra:
        raise ValueError(f"{where}: weights do not match model.json: missing {missing[:8]}"
                         f"{' ...' if len(missing) > 8 else ''}, unexpected {extra[:8]}{' ...' if len(extra) > 8 else ''}")
    for name, value in tensors.items():
        if tuple(value.shape) != tuple(own[name].shape):
            raise ValueError(f"{where}: tensor {name!r} has shape {list(value.shape)}, "
                             f"model.json implies {list(own[name].shape)}")
    model.load_state_dict({k: v.to(own[k].dtype) for k, v in tensors.items()})


def load_model(model_dir_or_json, dtype=torch.float64):
    """Build the model described by model.json and load its safetensors weights."""
    path = _resolve(model_dir_or_json)
    config = read_config(path)
    weights = os.path.join(os.path.dirname(os.path.abspath(path)), config["weights_file"])
    model = AllScAIP(config).to(dtype)
    load_state(model, load_file(weights), weights)
    model.eval()
    return model


def save_model(model, out_dir, config=None):
    """Write model.json (the given or the model's config) and float32 weights into out_dir."""
    config = validate_config(config if config is not None else model.config)
    # Optional architecture flags at their default are left out, so a model written before a flag existed
    # and the same model written now are the same file (and converted checkpoints keep the reference's keys).
    arch = config["architecture"]
    for key, (_, default) in OPTIONAL_ARCHITECTURE_KEYS.items():
        if arch.get(key) == default:
            del arch[key]
    os.makedirs(out_dir, exist_ok=True)
    tensors = {k: v.detach().to(torch.float32) for k, v in model.state_dict().items()}
    save_file(tensors, os.path.join(out_dir, config["weights_file"]), metadata={"format": "pt"})
    with open(os.path.join(out_dir, "model.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    return out_dir
