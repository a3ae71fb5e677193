#!/usr/bin/env python3
"""Convert a released fairchem AllScAIP inference checkpoint (.pt) to our model.json + weights.safetensors.

    /usr/bin/python3 training/convert_checkpoint.py AllScAIP-OMol102M-md-cons.pt out/allscaip-md-cons

The checkpoint is a pickled `MLIPInferenceCheckpoint` (model_config, model_state_dict, ema_state_dict,
tasks_config; spec §6). fairchem need not be installed: classes that cannot be imported are rebuilt as
plain attribute bags. Every hyper-parameter comes from the checkpoint's own backbone config (with the
fairchem dataclass defaults for keys the config leaves out) and is cross-checked against tensor shapes;
the energy normaliser and element references come from its tasks_config. Inference uses the EMA weights
(as fairchem's `load_inference_model(use_ema=True)`), `module.` prefix stripped, `n_averaged` dropped.
"""
import argparse
import json
import os
import pickle
import sys
import zipfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from scaip.config import validate_config  # noqa: E402
from scaip.io import load_state  # noqa: E402
from scaip.model import AllScAIP  # noqa: E402
from scaip.safetensors import save_file  # noqa: E402

# fairchem AllScAIP dataclass defaults (src/fairchem/core/models/allscaip/configs.py) for absent keys.
BACKBONE_DEFAULTS = {
    "activation": "gelu", "regress_stress": False, "use_residual_scaling": True, "use_node_path": True,
    "knn_soft": True, "knn_sigmoid_scale": 0.2, "knn_lse_scale": 0.1, "knn_use_low_mem": True,
    "distance_function": "gaussian", "use_envelope": True, "node_direction_expansion_size": 10,
    "edge_direction_expansion_size": 6, "edge_distance_expansion_size": 512, "output_hidden_layer_multiplier": 2,
    "ffn_hidden_layer_multiplier": 2, "attn_num_freq": 32, "freequency_list": [20, 10, 4, 10, 20],
    "energy_reduce": "sum", "use_freq_mask": True, "use_sincx_mask": True, "normalization": "rmsnorm",
}
REQUIRED = ("hidden_size", "num_layers", "atten_num_heads", "max_num_elements", "max_radius", "knn_k")
# The reference's low-memory soft rank keeps k + delta candidates with delta = 20 (not configurable).
LOW_MEM_DELTA = 20
FLOAT32_EPS = 1.1920928955078125e-07


class ConversionError(ValueError):
    pass


# ----------------------------------------------------------------------------- unpickling without fairchem
class AttributeBag:
    """Stand-in for a class that cannot be imported (fairchem, omegaconf...): keeps whatever state it gets."""

    _bag_name = "AttributeBag"

    def __init__(self, *args, **kwargs):
        self._bag_args = args
        self.__dict__.update(kwargs)

    def __setstate__(self, state):
        if isinstance(state, tuple) and len(state) == 2 and (state[0] is None or isinstance(state[0], dict)):
            state = {**(state[0] or {}), **(state[1] or {})}  # (dict, slots) form
        if isinstance(state, dict):
            self.__dict__.update(state)
        else:
            self._bag_state = state

    def __repr__(self):
        return f"<{self._bag_name} {sorted(k for k in self.__dict__ if not k.startswith('_bag'))}>"


_BAGS = {}


def _bag_class(module, name):
    key = f"{module}.{name}"
    if key not in _BAGS:
        _BAGS[key] = type(name, (AttributeBag,), {"_bag_name": key, "__module__": "convert_checkpoint.bags"})
    return _BAGS[key]


class LenientUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        try:
            return super().find_class(module, name)
        except (ImportError, AttributeError):
            if module == "torch" or module.startswith("torch."):
                raise ConversionError(
                    f"checkpoint needs {module}.{name}, which this torch ({torch.__version__}) lacks") from None
            return _bag_class(module, name)


class _LenientPickleModule:
    """The `pickle_module` torch.load expects: our Unpickler plus pickle's load/dump."""

    Unpickler = LenientUnpickler
    Pickler = pickle.Pickler
    load = staticmethod(lambda f, **kw: LenientUnpickler(f, **kw).load())
    dump = staticmethod(pickle.dump)
    __name__ = "lenient_pickle"


def load_checkpoint(path):
    """Unpickle a zip-format torch checkpoint with LenientUnpickler.

    torch 1.13's torch.load ignores `pickle_module` unless weights_only is set, so the zip reader is
    driven directly here (same internals torch.load uses).
    """
    try:
        with open(path, "rb") as f:
            if not zipfile.is_zipfile(f):
                raise ConversionError(f"{path}: not a zip-format torch checkpoint")
            f.seek(0)
            with torch.serialization._open_zipfile_reader(f) as archive:
                return torch.serialization._load(archive, "cpu", _LenientPickleModule, encoding="utf-8")
    except ConversionError:
        raise
    except FileNotFoundError:
        raise ConversionError(f"{path}: no such file") from None
    except Exception as err:  # noqa: BLE001 - report any unpickling failure with the file name
        raise ConversionError(f"{path}: cannot read the checkpoint ({type(err).__name__}: {err})") from None


def plain(obj):
    """Recursively turn attribute bags (incl. pickled OmegaConf containers) into dicts/lists."""
    if isinstance(obj, AttributeBag):
        d = obj.__dict__
        if "_content" in d:  # OmegaConf DictConfig/ListConfig
            return plain(d["_content"])
        if "_val" in d:  # OmegaConf value node
            return plain(d["_val"])
        return {k: plain(v) for k, v in d.items() if not k.startswith("_bag")}
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    return obj


def field(ckpt, name):
    if isinstance(ckpt, dict):
        return ckpt.get(name)
    return getattr(ckpt, name, None)


# ----------------------------------------------------------------------------- config extraction
def _as_number_list(value, where):
    if torch.is_tensor(value):
        return [float(x) for x in value.double().reshape(-1).tolist()]
    if isinstance(value, dict):
        for key in ("_args_", "element_references", "args"):
            if key in value:
                inner = value[key]
                if key == "_args_" and isinstance(inner, list) and len(inner) == 1:
                    inner = inner[0]
                return _as_number_list(inner, where)
        raise ConversionError(f"{where}: cannot find the numbers in {sorted(value)}")
    if isinstance(value, list):
        if (len(value) == 1 and isinstance(value[0], (list, dict))) or (value and torch.is_tensor(value[0])):
            return _as_number_list(value[0], where)
        try:
            return [float(x) for x in value]
        except (TypeError, ValueError):
            raise ConversionError(f"{where}: not a list of numbers") from None
    raise ConversionError(f"{where}: unexpected {type(value).__name__}")


def _normalizer(task, where):
    norm = task.get("normalizer")
    if norm is None:
        return 1.0, 0.0
    if isinstance(norm, dict):
        rmsd, mean = norm.get("rmsd", 1.0), norm.get("mean", 0.0)
    else:
        raise ConversionError(f"{where}.normalizer: unexpected {type(norm).__name__}")
    if torch.is_tensor(rmsd):
        rmsd = float(rmsd.reshape(-1)[0])
    if torch.is_tensor(mean):
        mean = float(mean.reshape(-1)[0])
    if isinstance(rmsd, str) or isinstance(mean, str):
        raise ConversionError(f"{where}.normalizer: unresolved value ({rmsd!r}, {mean!r})")
    return float(rmsd), float(mean)


def extract_normalization(tasks, task_name=None):
    tasks = plain(tasks)
    if isinstance(tasks, dict):
        tasks = [dict(v, name=v.get("name", k)) for k, v in tasks.items()]
    if not isinstance(tasks, list) or not tasks:
        raise ConversionError("tasks_config: expected a non-empty list of tasks")
    energy = [t for t in tasks if isinstance(t, dict) and t.get("property") == "energy"]
    if task_name is not None:
        energy = [t for t in energy if t.get("name") == task_name]
    if len(energy) != 1:
        names = [t.get("name") for t in tasks if isinstance(t, dict) and t.get("property") == "energy"]
        raise ConversionError(f"tasks_config: need exactly one energy task, found {names}; choose with --task")
    task = energy[0]
    where = f"tasks_config[{task.get('name')}]"
    scale, shift = _normalizer(task, where)
    refs = task.get("element_references")
    refs = None if refs is None else _as_number_list(refs, where + ".element_references")
    force_tasks = [t for t in tasks if isinstance(t, dict) and t.get("property") == "forces"
                   and set(t.get("datasets") or []) & set(task.get("datasets") or [])] or \
                  [t for t in tasks if isinstance(t, dict) and t.get("property") == "forces"]
    if force_tasks:
        f_scale, _ = _normalizer(force_tasks[0], f"tasks_config[{force_tasks[0].get('name')}]")
        if abs(f_scale - scale) > 1e-12 * max(1.0, abs(scale)):
            # Our format has a single scale: -d(scale*E)/dx for conservative, scale*F_raw for direct.
            raise ConversionError(f"{where}: force normaliser rmsd {f_scale} differs from energy rmsd {scale}")
    return {"energy_scale": scale, "energy_shift": shift, "element_references": refs}, task.get("name")


def elements_from_references(refs, max_num_elements):
    """Atomic numbers with a non-zero element reference, ascending; None without references.

    fairchem fits the element references by least squares over the elements of the training data and leaves
    every other row of the table at exactly 0.0, so the non-zero rows are the elements the model was trained
    on. (An element whose fitted reference came out exactly 0.0 would be missed; with float64 fits that does
    not happen.) Row 0 is not an element.
    """
    if refs is None:
        return None
    found = [z for z in range(1, min(len(refs), max_num_elements, 119)) if refs[z] != 0.0]
    return found or None


def find_heads(keys, energy_head=None):
    energy = sorted({k[: -len("energy_ffn.0.0.weight")] for k in keys if k.endswith("energy_ffn.0.0.weight")})
    force = sorted({k[: -len("force_ffn.0.0.weight")] for k in keys if k.endswith("force_ffn.0.0.weight")})
    if energy_head is not None:
        energy = [p for p in energy if energy_head in p.split(".")]
    if len(energy) != 1:
        raise ConversionError(f"state dict: need exactly one energy head, found {energy}; choose with --energy-head")
    if len(force) > 1:
        raise ConversionError(f"state dict: more than one direct force head {force}")
    return energy[0], (force[0] if force else None)


def build_config(backbone, state, tasks, name, description, source, task_name=None, energy_head=None):
    bb = {**BACKBONE_DEFAULTS, **plain(backbone)}
    for key in REQUIRED:
        if key not in bb:
            raise ConversionError(f"model_config.backbone: missing {key!r}")
    for key, value in bb.items():
        if isinstance(value, str) and value.startswith("${"):
            raise ConversionError(f"model_config.backbone.{key}: unresolved interpolation {value!r}")
    unsupported = {
        "activation": "gelu", "normalization": "rmsnorm", "distance_function": "gaussian", "use_envelope": True,
        "energy_reduce": "sum", "knn_soft": True, "knn_use_low_mem": True,
    }
    for key, want in unsupported.items():
        if bb[key] != want:
            raise ConversionError(f"model_config.backbone.{key} = {bb[key]!r}: only {want!r} is supported")
    energy_prefix, force_prefix = find_heads(state.keys(), energy_head)
    direct = force_prefix is not None
    if bool(bb.get("direct_forces", direct)) != direct:
        raise ConversionError(f"model_config.backbone.direct_forces = {bb.get('direct_forces')} but the state dict "
                              f"{'has' if direct else 'lacks'} a direct force head")
    normalization, used_task = extract_normalization(tasks, task_name)
    hidden = int(bb["hidden_size"])
    arch = {
        "hidden_size": hidden,
        "num_layers": int(bb["num_layers"]),
        "num_heads": int(bb["atten_num_heads"]),
        "max_num_elements": int(bb["max_num_elements"]),
        "cutoff": float(bb["max_radius"]),
        "knn_k": int(bb["knn_k"]),
        "knn_soft": True,
        "knn_sigmoid_scale": float(bb["knn_sigmoid_scale"]),
        "knn_lse_scale": float(bb["knn_lse_scale"]),
        "knn_candidates": int(bb["knn_k"]) + LOW_MEM_DELTA,
        "rbf_size": int(bb["edge_distance_expansion_size"]),
        "sh_lmax": int(bb["edge_direction_expansion_size"]) - 1,
        "boo_lmax": int(bb["node_direction_expansion_size"]) - 1,
        "ffn_multiplier": int(bb["ffn_hidden_layer_multiplier"]),
        "output_multiplier": int(bb["output_hidden_layer_multiplier"]),
        "use_node_attention": bool(bb["use_node_path"]),
        "use_lae": bool(bb["use_freq_mask"]),
        "lae_frequency_list": [int(x) for x in bb["freequency_list"]],
        "use_erope": bool(bb["use_sincx_mask"]) and bool(bb["use_node_path"]),
        "erope_num_freq": int(bb["attn_num_freq"]),
        "use_charge_spin": "backbone.input_block.charge_embedding.rand_emb.weight" in state,
        # The released models run in float32 with nn.RMSNorm(eps=None) -> float32 machine epsilon.
        "rmsnorm_eps": FLOAT32_EPS,
    }
    config = {
        "format": "scaip-web-model",
        "format_version": 1,
        "name": name,
        "version": "1.0.0",
        "description": description,
        "provenance": {"converter": "training/convert_checkpoint.py", "source": source, "energy_task": used_task,
                       "weights": "ema_state_dict"},
        "weights_file": "weights.safetensors",
        "elements": elements_from_references(normalization["element_references"], arch["max_num_elements"]),
        "architecture": arch,
        "heads": {
            "forces": "direct" if direct else "conservative",
            "energy_prefix": energy_prefix,
            "force_prefix": force_prefix,
            # The strain derivative is well defined for any conservative model.
            "regress_stress": not direct,
        },
        "normalization": normalization,
    }
    if config["elements"] is None:
        del config["elements"]  # unknown: loaders warn that structures are not checked against it
    return validate_config(config)


def extract_state(ckpt, use_ema=True):
    key = "ema_state_dict" if use_ema else "model_state_dict"
    state = field(ckpt, key)
    if state is None and use_ema:
        raise ConversionError("checkpoint has no ema_state_dict (use --no-ema to take model_state_dict)")
    if state is None:
        raise ConversionError(f"checkpoint has no {key}")
    out = {}
    for name, value in state.items():
        if name == "n_averaged":
            continue
        if not torch.is_tensor(value):
            raise ConversionError(f"{key}[{name!r}]: not a tensor")
        if name.startswith("module."):
            name = name[len("module."):]
        out[name] = value
    return out


def convert(path, out_dir, name=None, description=None, use_ema=True, task_name=None, energy_head=None):
    ckpt = load_checkpoint(path)
    model_config = plain(field(ckpt, "model_config"))
    if not isinstance(model_config, dict) or "backbone" not in model_config:
        raise ConversionError(f"{path}: model_config has no 'backbone' section")
    tasks = field(ckpt, "tasks_config")
    if tasks is None:
        raise ConversionError(f"{path}: checkpoint has no tasks_config")
    state = extract_state(ckpt, use_ema)
    base = os.path.splitext(os.path.basename(path))[0]
    config = build_config(model_config["backbone"], state, tasks, name or base,
                          description or f"converted from {os.path.basename(path)}", os.path.basename(path),
                          task_name, energy_head)
    # Building the model and loading the tensors checks every name and shape against the config.
    model = AllScAIP(config)
    load_state(model, state, f"{path} ({'ema' if use_ema else 'model'}_state_dict)")
    os.makedirs(out_dir, exist_ok=True)
    save_file({k: v.detach().to(torch.float32).contiguous() for k, v in state.items()},
              os.path.join(out_dir, config["weights_file"]), metadata={"format": "pt"})
    with open(os.path.join(out_dir, "model.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    return config


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="fairchem .pt inference checkpoint")
    parser.add_argument("out_dir", help="directory for model.json + weights.safetensors")
    parser.add_argument("--name", help="model name (default: checkpoint file name)")
    parser.add_argument("--description")
    parser.add_argument("--no-ema", action="store_true", help="use model_state_dict instead of the EMA weights")
    parser.add_argument("--task", help="energy task name in tasks_config when there are several")
    parser.add_argument("--energy-head", help="energy head name when the checkpoint has several")
    args = parser.parse_args(argv)
    try:
        config = convert(args.checkpoint, args.out_dir, args.name, args.description, not args.no_ema, args.task,
                         args.energy_head)
    except (ConversionError, ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    arch = config["architecture"]
    print(f"wrote {args.out_dir}: H={arch['hidden_size']} L={arch['num_layers']} heads={arch['num_heads']} "
          f"LAE={arch['use_lae']} ERoPE={arch['use_erope']} forces={config['heads']['forces']} "
          f"scale={config['normalization']['energy_scale']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
