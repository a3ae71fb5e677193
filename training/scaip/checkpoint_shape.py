"""Write a file shaped like a released fairchem AllScAIP inference checkpoint, from one of our models.

Used to test the converter without fairchem: the pickle holds a class named
`fairchem.core.units.mlip_unit.api.inference.MLIPInferenceCheckpoint` (as the released files do), the EMA
weights carry `module.` prefixes plus `n_averaged`, and the config uses fairchem's key names.
"""
import dataclasses
import sys
import types

import torch

CHECKPOINT_MODULE = "fairchem.core.units.mlip_unit.api.inference"


def fairchem_backbone_config(config):
    """fairchem backbone kwargs for our config (keys equal to fairchem defaults are left out, as in the yamls)."""
    arch, heads = config["architecture"], config["heads"]
    return {
        "model": "fairchem.core.models.allscaip.AllScAIP.AllScAIPBackbone",
        "num_layers": arch["num_layers"], "hidden_size": arch["hidden_size"],
        "direct_forces": heads["forces"] == "direct", "regress_forces": True, "regress_stress": False,
        "use_compile": False, "use_padding": False, "dataset_list": ["omol"],
        "use_node_path": arch["use_node_attention"], "use_freq_mask": arch["use_lae"],
        "use_sincx_mask": arch["use_erope"], "freequency_list": arch["lae_frequency_list"],
        "max_num_elements": arch["max_num_elements"], "max_batch_size": 96, "max_atoms": 350,
        "max_radius": arch["cutoff"], "use_pbc": False, "knn_k": arch["knn_k"], "knn_pad_size": arch["knn_k"] + 20,
        "edge_distance_expansion_size": arch["rbf_size"], "atten_name": "memory_efficient",
        "atten_num_heads": arch["num_heads"],
    }


def fairchem_tasks(normalization, dataset="omol"):
    refs = normalization["element_references"]
    energy = {
        "_target_": "fairchem.core.units.mlip_unit.mlip_unit.Task", "name": f"{dataset}_energy", "level": "system",
        "property": "energy", "datasets": [dataset],
        "normalizer": {"_target_": "fairchem.core.modules.normalization.normalizer.Normalizer",
                       "mean": normalization["energy_shift"], "rmsd": normalization["energy_scale"]},
    }
    if refs is not None:
        energy["element_references"] = {
            "_target_": "fairchem.core.modules.normalization.element_references.ElementReferences",
            "element_references": {"_target_": "torch.DoubleTensor", "_args_": [list(refs)]},
        }
    forces = {
        "_target_": "fairchem.core.units.mlip_unit.mlip_unit.Task", "name": f"{dataset}_forces", "level": "atom",
        "property": "forces", "datasets": [dataset],
        "normalizer": {"_target_": "fairchem.core.modules.normalization.normalizer.Normalizer",
                       "mean": 0.0, "rmsd": normalization["energy_scale"]},
    }
    return [energy, forces]


def _fake_checkpoint_class():
    """A dataclass whose pickle path is fairchem's, registered only while saving."""

    @dataclasses.dataclass
    class MLIPInferenceCheckpoint:
        model_config: dict
        model_state_dict: dict
        ema_state_dict: dict
        tasks_config: list

    MLIPInferenceCheckpoint.__module__ = CHECKPOINT_MODULE
    MLIPInferenceCheckpoint.__qualname__ = "MLIPInferenceCheckpoint"
    return MLIPInferenceCheckpoint


def write_checkpoint_like(model, path, head_name="energyandforcehead"):
    config = model.config
    state = {k: v.detach().to(torch.float32).clone() for k, v in model.state_dict().items()}
    # The released EMA copy is what inference uses; make the raw weights differ so a mix-up shows.
    raw = {k: v + 0.01 for k, v in state.items()}
    ema = {"module." + k: v for k, v in state.items()}
    ema["n_averaged"] = torch.tensor(1234)
    heads = {head_name: {"module": "fairchem.core.models.uma.escn_moe.DatasetSpecificSingleHeadWrapper",
                         "head_cls": "fairchem.core.models.allscaip.AllScAIP.AllScAIPGradientEnergyForceStressHead",
                         "dataset_names": ["omol"]}}
    cls = _fake_checkpoint_class()
    created = []
    parts = CHECKPOINT_MODULE.split(".")
    for i in range(1, len(parts) + 1):
        name = ".".join(parts[:i])
        if name not in sys.modules:
            sys.modules[name] = types.ModuleType(name)
            created.append(name)
    setattr(sys.modules[CHECKPOINT_MODULE], "MLIPInferenceCheckpoint", cls)
    try:
        ckpt = cls(model_config={"backbone": fairchem_backbone_config(config), "heads": heads,
                                 "pass_through_head_outputs": True},
                   model_state_dict=raw, ema_state_dict=ema, tasks_config=fairchem_tasks(config["normalization"]))
        torch.save(ckpt, path)
    finally:
        for name in reversed(created):
            del sys.modules[name]
    return path
