"""model.json parsing and validation (docs/model-format.md).

Unknown keys are an error so that a typo never silently falls back to a default.
"""
import copy
import math
import os

FORMAT = "scaip-web-model"
FORMAT_VERSION = 1

ARCHITECTURE_KEYS = {
    "hidden_size": int,
    "num_layers": int,
    "num_heads": int,
    "max_num_elements": int,
    "cutoff": float,
    "knn_k": int,
    "knn_soft": bool,
    "knn_sigmoid_scale": float,
    "knn_lse_scale": float,
    "knn_candidates": int,
    "rbf_size": int,
    "sh_lmax": int,
    "boo_lmax": int,
    "ffn_multiplier": int,
    "output_multiplier": int,
    "use_node_attention": bool,
    "use_lae": bool,
    "lae_frequency_list": list,
    "use_erope": bool,
    "erope_num_freq": int,
    "use_charge_spin": bool,
    "rmsnorm_eps": float,
}
# Optional architecture keys and their defaults: absent in converted checkpoints and older files, which
# therefore keep the reference behaviour. validate_config fills the default in.
OPTIONAL_ARCHITECTURE_KEYS = {
    # BOO as an envelope-weighted mean over the slots (docs/model-format.md), continuous as edges enter/leave
    "boo_envelope_weighted": (bool, False),
    # ERoPE pair distance from a smooth periodic metric instead of the minimum image (no force kink at half
    # the box; docs/model-format.md)
    "erope_smooth_minimum_image": (bool, False),
    # demand knn_candidates >= 2 knn_k, which guarantees that the candidate truncation never drops an edge
    "knn_candidate_margin": (bool, False),
}
HEADS_KEYS = {"forces": str, "energy_prefix": str, "force_prefix": (str, type(None)), "regress_stress": bool}
NORMALIZATION_KEYS = {"energy_scale": float, "energy_shift": float, "element_references": (list, type(None))}
TOP_KEYS = {
    "format", "format_version", "name", "version", "description", "provenance", "weights_file",
    "architecture", "heads", "normalization",
}


# Optional top-level keys: "elements" (sorted atomic numbers the model was trained on; absent = unknown).
OPTIONAL_TOP_KEYS = {"elements"}
MAX_Z = 118


# Inclusive bounds on numeric fields, the same as src/model/modelJson.ts: far beyond any real model (the released
# md_NeNo: hidden 640, 10 layers, 10 heads, k 30, cutoff 6 A) but small enough that every size derived from them
# (tensor shapes, per-layer modules, periodic images) stays computable.
LIMITS = {
    ("architecture", "hidden_size"): (1, 16384), ("architecture", "num_layers"): (1, 256),
    ("architecture", "num_heads"): (1, 256), ("architecture", "max_num_elements"): (2, 1024),
    ("architecture", "cutoff"): (0.1, 100), ("architecture", "knn_k"): (1, 1024),
    ("architecture", "knn_sigmoid_scale"): (1e-6, 100), ("architecture", "knn_lse_scale"): (1e-6, 100),
    ("architecture", "knn_candidates"): (1, 1024), ("architecture", "rbf_size"): (1, 16384),
    ("architecture", "sh_lmax"): (0, 16), ("architecture", "boo_lmax"): (0, 32),
    ("architecture", "ffn_multiplier"): (1, 64), ("architecture", "output_multiplier"): (1, 64),
    ("architecture", "erope_num_freq"): (1, 4096), ("architecture", "rmsnorm_eps"): (1e-30, 0.1),
    ("normalization", "energy_scale"): (1e-12, 1e12), ("normalization", "energy_shift"): (-1e12, 1e12),
}


class ModelConfigError(ValueError):
    pass


def _check_section(section, spec, where, optional=None):
    if not isinstance(section, dict):
        raise ModelConfigError(f"{where}: expected an object")
    optional = optional or {}
    for key, (typ, default) in optional.items():
        if key not in section:
            section[key] = default
    spec = dict(spec, **{key: typ for key, (typ, _) in optional.items()})
    unknown = set(section) - set(spec)
    if unknown:
        raise ModelConfigError(f"{where}: unknown key(s) {sorted(unknown)}")
    missing = set(spec) - set(section)
    if missing:
        raise ModelConfigError(f"{where}: missing key(s) {sorted(missing)}")
    for key, typ in spec.items():
        value = section[key]
        if typ is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        elif typ is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        else:
            ok = isinstance(value, typ)
        if not ok:
            raise ModelConfigError(f"{where}.{key}: bad value {value!r}")


def validate_config(config):
    """Check a model.json dict; returns a deep copy. Raises ModelConfigError naming the field."""
    if not isinstance(config, dict):
        raise ModelConfigError("model.json: expected a JSON object")
    cfg = copy.deepcopy(config)
    unknown = set(cfg) - TOP_KEYS - OPTIONAL_TOP_KEYS
    if unknown:
        raise ModelConfigError(f"model.json: unknown key(s) {sorted(unknown)}")
    missing = TOP_KEYS - set(cfg)
    if missing:
        raise ModelConfigError(f"model.json: missing key(s) {sorted(missing)}")
    if cfg["format"] != FORMAT or cfg["format_version"] != FORMAT_VERSION:
        raise ModelConfigError(
            f"model.json: format {cfg['format']!r} version {cfg['format_version']!r} "
            f"(expected {FORMAT!r} version {FORMAT_VERSION})"
        )
    _check_section(cfg["architecture"], ARCHITECTURE_KEYS, "architecture", OPTIONAL_ARCHITECTURE_KEYS)
    _check_section(cfg["heads"], HEADS_KEYS, "heads")
    _check_section(cfg["normalization"], NORMALIZATION_KEYS, "normalization")
    for (section, key), (lo, hi) in LIMITS.items():
        value = cfg[section][key]
        if not lo <= value <= hi:
            raise ModelConfigError(f"{section}.{key}: {value!r} is outside the range {lo} to {hi} that any real model lies in")
    name = cfg["weights_file"]
    # load_model joins it to model.json's directory: a path would let a model file name any file on the disk.
    if (not isinstance(name, str) or not name or name in (".", "..") or "/" in name or "\\" in name
            or os.path.isabs(name) or len(name) > 255):
        raise ModelConfigError(f"weights_file: {name!r} must be a plain file name next to model.json")
    arch, heads = cfg["architecture"], cfg["heads"]
    if arch["hidden_size"] % arch["num_heads"] != 0:
        raise ModelConfigError("architecture: hidden_size must be divisible by num_heads")
    if arch["use_lae"] and sum(arch["lae_frequency_list"]) != arch["hidden_size"] // arch["num_heads"]:
        raise ModelConfigError("architecture.lae_frequency_list: must sum to the head dimension")
    if arch["knn_candidate_margin"] and arch["knn_candidates"] < 2 * arch["knn_k"]:
        # The farthest kept candidate c has rank_c = Σ_b bump((d_c - d_b)/s) over the kept set, every term >= 1/2,
        # so rank_c >= knn_candidates/2 >= knn_k, hence x >= rank_c/knn_k >= 1: it is never an edge, and a swap at
        # the truncation boundary exchanges two non-edges (the other ranks are continuous through it).
        raise ModelConfigError(
            f"architecture.knn_candidates: {arch['knn_candidates']} < 2 * knn_k = {2 * arch['knn_k']}; "
            "knn_candidate_margin needs knn_candidates >= 2 knn_k so that no edge is ever cut by the candidate budget")
    if not arch["knn_soft"]:
        raise ModelConfigError("architecture.knn_soft: hard kNN ranks are not supported (all released models are soft)")
    if heads["forces"] not in ("conservative", "direct"):
        raise ModelConfigError(f"heads.forces: {heads['forces']!r} (expected 'conservative' or 'direct')")
    if heads["forces"] == "direct" and not heads["force_prefix"]:
        raise ModelConfigError("heads.force_prefix: required for a direct force head")
    for key in ("energy_prefix", "force_prefix"):
        prefix = heads[key]
        if prefix is not None and not prefix.endswith("."):
            raise ModelConfigError(f"heads.{key}: must end with '.' ({prefix!r})")
    refs = cfg["normalization"]["element_references"]
    if refs is not None and not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in refs):
        raise ModelConfigError("normalization.element_references: must be numbers")
    elements = cfg.get("elements")
    if elements is not None:
        if not (isinstance(elements, list) and elements
                and all(isinstance(z, int) and not isinstance(z, bool) and 1 <= z <= MAX_Z for z in elements)):
            raise ModelConfigError(f"elements: must be null or a non-empty list of atomic numbers 1..{MAX_Z}, got {elements!r}")
        if any(b <= a for a, b in zip(elements, elements[1:])):
            raise ModelConfigError(f"elements: must be sorted ascending without repeats, got {elements}")
        if elements[-1] >= arch["max_num_elements"]:
            raise ModelConfigError(f"elements: Z = {elements[-1]} has no embedding row (max_num_elements = "
                                   f"{arch['max_num_elements']})")
    return cfg
