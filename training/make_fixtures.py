#!/usr/bin/env python3
"""Generate the float64 golden fixtures of test/fixtures/ with the PyTorch reference model.

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 training/make_fixtures.py [--out test/fixtures]

Each case directory holds model.json, weights.safetensors (float32, randomised so nothing sits at a
degenerate init) and case.json {inputs, outputs, intermediates}; index.json lists the cases and flags.
The four public-code golden cases are exported too (golden-case1..4) with the public code's numbers as
`outputs`. Deterministic: fixed seeds, same files on every run.
"""
import argparse
import glob
import json
import math
import os
import shutil
import sys
import tempfile

# OpenBLAS picks its kernels by CPU (AVX-512 vs AVX2), and the two round float64 sums differently in the last bit;
# the committed fixtures are byte-checked against a regeneration (training/tests/test_fixtures.py), so pin the
# AVX2 (Haswell) kernels, which every x86-64 CI machine has. Must be set before numpy/torch load OpenBLAS.
os.environ.setdefault("OPENBLAS_CORETYPE", "Haswell")

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from scaip.golden import config_from_golden, load_golden, state_dict_from_golden, structure_from_golden  # noqa: E402
import convert_checkpoint  # noqa: E402
from scaip.checkpoint_shape import write_checkpoint_like  # noqa: E402
from scaip.io import load_model, save_model  # noqa: E402
from scaip.model import AllScAIP, batch_structures  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN_DIR = os.path.join(os.path.dirname(REPO), "shared", "reference", "allscaip-golden")
if not os.path.isdir(GOLDEN_DIR):
    GOLDEN_DIR = "/work/shared/reference/allscaip-golden"


# ----------------------------------------------------------------------------- configs
def make_config(name, description, hidden=16, heads=2, knn_k=30, candidates=50, use_node_attention=True,
                use_lae=False, use_erope=False, forces="conservative", regress_stress=True, normalization=None,
                max_num_elements=110, boo_envelope_weighted=False, erope_smooth_minimum_image=False,
                knn_candidate_margin=False):
    head_dim = hidden // heads
    lae = {8: [3, 2, 1, 1, 1], 16: [6, 4, 2, 2, 2]}[head_dim]
    return {
        "format": "scaip-web-model",
        "format_version": 1,
        "name": name,
        "version": "1.0.0",
        "description": description,
        "provenance": {"source": "training/make_fixtures.py (random weights, outputs from the PyTorch reference)"},
        "weights_file": "weights.safetensors",
        "architecture": {
            "hidden_size": hidden, "num_layers": 2, "num_heads": heads, "max_num_elements": max_num_elements,
            "cutoff": 6.0, "knn_k": knn_k, "knn_soft": True, "knn_sigmoid_scale": 0.2, "knn_lse_scale": 0.1,
            "knn_candidates": candidates, "rbf_size": 16, "sh_lmax": 5, "boo_lmax": 9, "ffn_multiplier": 2,
            "output_multiplier": 2, "use_node_attention": use_node_attention, "use_lae": use_lae,
            "lae_frequency_list": lae, "use_erope": use_erope, "erope_num_freq": 32, "use_charge_spin": True,
            "rmsnorm_eps": 1.1920928955078125e-07, "boo_envelope_weighted": boo_envelope_weighted,
            "erope_smooth_minimum_image": erope_smooth_minimum_image, "knn_candidate_margin": knn_candidate_margin,
        },
        "heads": {
            "forces": forces,
            "energy_prefix": "output_heads.energyandforcehead.head." if forces == "conservative"
            else "output_heads.omol_energy.",
            "force_prefix": None if forces == "conservative" else "output_heads.forces.",
            "regress_stress": regress_stress and forces == "conservative",
        },
        "normalization": normalization or {"energy_scale": 1.0, "energy_shift": 0.0, "element_references": None},
    }


def randomize(model, seed):
    """Re-randomise every tensor as the golden data does, then round to float32 (what we store)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            leaf = name.split(".")[-1]
            if name.endswith("atomic_embedding.weight") or "rand_emb" in name:
                p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64))
            elif name.endswith("radial_weight"):
                p.copy_(1.0 / p.shape[1] + 0.3 * torch.randn(p.shape, generator=gen, dtype=torch.float64))
            elif "res_scale" in name:
                p.copy_(0.25 + 0.5 * torch.rand(p.shape, generator=gen, dtype=torch.float64))
            elif "norm" in name and leaf == "weight":
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=gen, dtype=torch.float64))
            elif leaf == "bias":
                p.copy_(0.1 * torch.randn(p.shape, generator=gen, dtype=torch.float64))
            elif leaf == "weight" and p.dim() == 2:
                bound = 1.0 / math.sqrt(p.shape[1])  # kaiming-uniform(a=sqrt 5) bound of nn.Linear
                p.copy_((torch.rand(p.shape, generator=gen, dtype=torch.float64) * 2 - 1) * bound)
            else:
                raise RuntimeError(f"no randomisation rule for {name}")
            p.copy_(p.to(torch.float32).to(torch.float64))


# ----------------------------------------------------------------------------- structures
def water(rng, center):
    """One H2O with O-H 0.96 Å, H-O-H 104.5°, random orientation."""
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    half = math.radians(104.5) / 2
    local = np.array([[0, 0, 0], [0.96 * math.sin(half), 0, 0.96 * math.cos(half)],
                      [-0.96 * math.sin(half), 0, 0.96 * math.cos(half)]])
    return [8, 1, 1], local @ q.T + center


def molecules_on_grid(rng, n_mol, spacing, jitter, extra=()):
    numbers, pos = [], []
    side = int(math.ceil(n_mol ** (1 / 3)))
    sites = [np.array([i, j, k], float) for i in range(side) for j in range(side) for k in range(side)]
    rng.shuffle(sites)
    for site in sites[:n_mol]:
        z, p = water(rng, site * spacing + rng.uniform(-jitter, jitter, 3))
        numbers += z
        pos.append(p)
    for z, p in extra:
        numbers.append(z)
        pos.append(np.asarray(p, float)[None])
    return numbers, np.concatenate(pos)


def rounded(a):
    # Inputs exactly representable in float32, so a float32 runtime sees the same structure.
    return np.asarray(a, np.float64).astype(np.float32).astype(np.float64)


def wrap(pos, cell, pbc):
    frac = np.linalg.solve(cell.T, pos.T).T
    frac = np.where(pbc, frac - np.floor(frac), frac)
    return frac @ cell


def molecule(seed, n_mol, extra=(), charge=0, spin=1):
    rng = np.random.RandomState(seed)
    numbers, pos = molecules_on_grid(rng, n_mol, 3.0, 0.3, extra)
    return {"numbers": numbers, "positions": rounded(pos).tolist(), "cell": None, "pbc": [False] * 3,
            "charge": charge, "spin": spin}


def periodic(seed, cell, n_mol, pbc=(True, True, True), extra=()):
    rng = np.random.RandomState(seed)
    cell = rounded(cell)
    numbers, frac_pos = [], []
    side = int(math.ceil(n_mol ** (1 / 3)))
    sites = [np.array([i, j, k], float) / side + 0.5 / side for i in range(side) for j in range(side)
             for k in range(side)]
    rng.shuffle(sites)
    for site in sites[:n_mol]:
        z, p = water(rng, (site + rng.uniform(-0.05, 0.05, 3)) @ cell)
        numbers += z
        frac_pos.append(p)
    for z, p in extra:
        numbers.append(z)
        frac_pos.append(np.asarray(p, float)[None] @ cell)
    pos = wrap(np.concatenate(frac_pos), cell, np.array(pbc))
    pos = wrap(rounded(pos), cell, np.array(pbc))  # rounding can push an atom to exactly L
    return {"numbers": numbers, "positions": rounded(pos).tolist(), "cell": cell.tolist(), "pbc": list(pbc),
            "charge": 0, "spin": 1}


def dense_cluster(seed, n):
    """Ne/Ar jittered grid: more candidates than knn_candidates, so truncation is active."""
    rng = np.random.RandomState(seed)
    side = int(math.ceil(n ** (1 / 3)))
    grid = np.array([[i, j, k] for i in range(side) for j in range(side) for k in range(side)], float)[:n]
    pos = grid * 1.7 + rng.uniform(-0.25, 0.25, grid.shape)
    numbers = rng.choice([10, 18], size=n).tolist()
    return {"numbers": numbers, "positions": rounded(pos).tolist(), "cell": None, "pbc": [False] * 3,
            "charge": 0, "spin": 1}


def element_references(seed, size):
    rng = np.random.RandomState(seed)
    refs = rng.uniform(-100.0, -1.0, size)
    refs[0] = 0.0
    return [float(x) for x in rounded(refs)]


CASES = [
    # name, flags for make_config, structure factory, description
    ("molecule-released-flags", dict(use_node_attention=True), lambda: molecule(11, 6),
     "6 H2O cluster, node attention only (the released md_NeNo flags)"),
    ("molecule-all-flags", dict(use_lae=True, use_erope=True, hidden=32),
     lambda: molecule(12, 5, extra=[(6, [4.4, 4.6, 1.2]), (7, [1.5, 4.4, 4.8]), (17, [5.2, 1.0, 5.0])]),
     "5 H2O + C, N, Cl, LAE + ERoPE + node attention, hidden 32"),
    ("no-node-attention", dict(use_node_attention=False, use_lae=True), lambda: molecule(13, 5),
     "node attention off, LAE on"),
    ("erope-only", dict(use_erope=True), lambda: molecule(14, 6), "ERoPE on, LAE off"),
    ("charged-radical", dict(use_lae=True), lambda: molecule(15, 4, extra=[(8, [4.8, 1.2, 1.0])], charge=-1, spin=2),
     "4 H2O + O, charge -1, spin multiplicity 2"),
    ("direct-forces", dict(forces="direct", use_lae=True, use_erope=True), lambda: molecule(16, 6),
     "direct force head (forces = energy_scale * MLP(node)), no stress"),
    ("triclinic-pbc", dict(use_lae=True, use_erope=True),
     lambda: periodic(17, [[7.3, 0.0, 0.0], [1.9, 6.8, 0.0], [-1.3, 1.2, 5.6]], 8),
     "8 H2O in a triclinic cell, pbc TTT, c-height < 6 Å (rep 2), all flags, stress"),
    ("slab-mixed-pbc", dict(use_lae=False, use_erope=True),
     lambda: periodic(18, [[6.9, 0.0, 0.0], [0.0, 7.4, 0.0], [0.0, 0.0, 9.0]], 6, pbc=(True, True, False)),
     "6 H2O, pbc TTF (slab), ERoPE, stress over the cell volume"),
    ("normalized-refs", dict(use_lae=True, normalization={
        "energy_scale": 1.433569, "energy_shift": 0.25, "element_references": element_references(19, 20)}),
     lambda: periodic(20, [[7.1, 0.0, 0.0], [0.0, 7.1, 0.0], [0.0, 0.0, 7.1]], 8),
     "cubic water box with energy_scale 1.433569, shift 0.25 and element references"),
    ("dense-truncation", dict(knn_k=10, candidates=14, use_lae=True, use_erope=True), lambda: dense_cluster(21, 40),
     "40 Ne/Ar atoms at 1.7 Å spacing with knn_k 10 / 14 candidates: truncation and rank-limited slots"),
    ("boo-weighted-molecule", dict(knn_k=8, candidates=12, use_lae=True, use_erope=True, boo_envelope_weighted=True),
     lambda: molecule(25, 5), "5 H2O cluster, envelope-weighted BOO, knn_k 8 / 12 candidates (soft-kNN slots)"),
    ("boo-weighted-triclinic", dict(knn_k=10, candidates=16, use_lae=True, use_erope=True, boo_envelope_weighted=True),
     lambda: periodic(26, [[7.3, 0.0, 0.0], [1.9, 6.8, 0.0], [-1.3, 1.2, 5.6]], 8),
     "8 H2O in a triclinic cell, envelope-weighted BOO, knn_k 10 / 16 candidates, all flags, stress"),
    ("smooth-triclinic", dict(knn_k=8, candidates=16, use_lae=True, use_erope=True, boo_envelope_weighted=True,
                              erope_smooth_minimum_image=True, knn_candidate_margin=True),
     lambda: periodic(27, [[7.3, 0.0, 0.0], [1.9, 6.8, 0.0], [-1.3, 1.2, 5.6]], 8),
     "8 H2O in a triclinic cell, every smooth-surface flag (weighted BOO, smooth ERoPE distance, candidate margin)"),
    ("smooth-slab", dict(knn_k=8, candidates=16, use_erope=True, erope_smooth_minimum_image=True,
                         knn_candidate_margin=True),
     lambda: periodic(28, [[6.9, 0.0, 0.0], [0.0, 7.4, 0.0], [0.0, 0.0, 9.0]], 6, pbc=(True, True, False)),
     "6 H2O, pbc TTF (slab), smooth ERoPE distance (open axis plain) and candidate margin, stress"),
]


# ----------------------------------------------------------------------------- evaluation
def evaluate(model, structure):
    """Float64 outputs and intermediates of one structure, in the case.json layout."""
    b = batch_structures([structure], dtype=torch.float64)
    out = model.compute(b["numbers"], b["pos"], b["cell"], b["pbc"], b["charge"], b["spin"], b["natoms"],
                        forces=True, stress=True, intermediates=True)
    inter = out["intermediates"]
    graph, layout = inter["graph"], inter["layout"]
    n, k = layout["num_nodes"], layout["num_slots"]
    env = graph["env"]
    src_env = torch.full((n * k,), math.inf, dtype=torch.float64).index_copy(0, layout["src_flat"], env)
    dst_env = torch.full((n * k,), math.inf, dtype=torch.float64).index_copy(0, layout["dst_flat"], env)
    src_count = torch.bincount(graph["center"], minlength=n)
    dst_count = torch.bincount(graph["neighbor"], minlength=n)
    if not torch.equal(src_count, dst_count):
        raise RuntimeError("outgoing and incoming edge counts differ (envelope tie); pick another geometry")
    order = torch.argsort(layout["src_flat"])
    edges = []
    for e in order.tolist():
        a = int(graph["center"][e])
        r = int(layout["src_slot"][e])
        s = graph["shift"][e].tolist()
        edges.append([a, int(graph["neighbor"][e]), s[0], s[1], s[2], float(src_env[a * k + r]),
                      float(dst_env[a * k + r])])
    stress = None
    if "stress" in out and bool(out["stress_valid"][0]):
        stress = out["stress"][0].tolist()
    return {
        "outputs": {
            "energy": float(out["energy"][0]),
            "energy_raw": float(out["energy_raw"][0]),
            "forces": out["forces"].detach().tolist(),
            "stress": stress,
        },
        "intermediates": {
            "num_slots": k,
            "edges": edges,
            "boo": inter["boo"].tolist(),
            "input_node": inter["input_node"].tolist(),
            "layer_node_states": [t.tolist() for t in inter["layer_node_states"]],
            "energy_per_atom": out["energy_per_atom"].detach().tolist(),
        },
    }


def flags_of(config, structure):
    arch, heads, norm = config["architecture"], config["heads"], config["normalization"]
    return {
        "use_node_attention": arch["use_node_attention"], "use_lae": arch["use_lae"], "use_erope": arch["use_erope"],
        "periodic": any(structure["pbc"]), "pbc": structure["pbc"], "charge": structure["charge"],
        "spin": structure["spin"], "forces": heads["forces"], "stress": heads["regress_stress"] and any(structure["pbc"]),
        "normalized": norm["energy_scale"] != 1.0 or norm["energy_shift"] != 0.0
        or norm["element_references"] is not None,
        "knn_k": arch["knn_k"], "knn_candidates": arch["knn_candidates"],
        "boo_envelope_weighted": arch.get("boo_envelope_weighted", False),
        "erope_smooth_minimum_image": arch.get("erope_smooth_minimum_image", False),
        "knn_candidate_margin": arch.get("knn_candidate_margin", False),
        "num_atoms": len(structure["numbers"]), "hidden_size": arch["hidden_size"],
    }


def write_case(out_dir, name, model, config, structure, outputs_override=None, extra=None):
    case_dir = os.path.join(out_dir, name)
    if os.path.isdir(case_dir):
        shutil.rmtree(case_dir)
    save_model(model, case_dir, config)
    result = evaluate(model, structure)
    case = {"inputs": structure, "outputs": result["outputs"], "intermediates": result["intermediates"]}
    if outputs_override is not None:
        case["outputs"] = outputs_override
    if extra:
        case.update(extra)
    with open(os.path.join(case_dir, "case.json"), "w") as f:
        json.dump(case, f, separators=(",", ":"))
        f.write("\n")
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(REPO, "test", "fixtures"))
    parser.add_argument("--golden-dir", default=GOLDEN_DIR)
    args = parser.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    index = []
    for i, (name, kwargs, make_structure, description) in enumerate(CASES):
        config = make_config(name, description, **kwargs)
        model = AllScAIP(config).double()
        randomize(model, 1000 + i)
        structure = make_structure()
        write_case(args.out, name, model, config, structure)
        index.append({"name": name, "description": description, "source": "pytorch-reference",
                      "flags": flags_of(config, structure)})
        print(f"{name}: {len(structure['numbers'])} atoms")
    # A model that went through the checkpoint converter, so every runtime can check a converted model.
    name = "converted-checkpoint"
    description = "released-like checkpoint (md_NeNo flags, rmsd 1.433569, element refs) through convert_checkpoint.py"
    config = make_config(name, description, normalization={
        "energy_scale": 1.433569, "energy_shift": 0.0, "element_references": element_references(23, 20)})
    source = AllScAIP(config).double()
    randomize(source, 2023)
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = write_checkpoint_like(source, os.path.join(tmp, "allscaip-like.pt"))
        converted_dir = os.path.join(tmp, "converted")
        convert_checkpoint.convert(ckpt, converted_dir, name=name, description=description)
        converted = load_model(converted_dir)
    structure = molecule(24, 5, extra=[(6, [4.6, 4.4, 1.4])])
    write_case(args.out, name, converted, converted.config, structure)
    index.append({"name": name, "description": description, "source": "convert_checkpoint.py",
                  "flags": flags_of(converted.config, structure)})
    print(f"{name}: {len(structure['numbers'])} atoms")
    for path in sorted(glob.glob(os.path.join(args.golden_dir, "case*.json"))):
        golden = load_golden(path)
        number = os.path.basename(path)[4]
        name = f"golden-case{number}"
        config = config_from_golden(golden)
        config["name"] = name
        config["provenance"]["golden_file"] = os.path.basename(path)
        config["provenance"]["outputs"] = "case.json outputs = the public code's float64 `outputs`; " \
                                          "intermediates from the PyTorch reference"
        model = AllScAIP(config).double()
        model.load_state_dict(state_dict_from_golden(golden))
        structure = structure_from_golden(golden)
        go = golden["outputs"]
        energy = go["energy"]["data"][0]
        forces = np.asarray(go["forces"]["data"]).reshape(-1, 3).tolist()
        stress = np.asarray(go["stress"]["data"]).reshape(3, 3).tolist() if "stress" in go else None
        outputs = {"energy": energy, "energy_raw": energy, "forces": forces, "stress": stress}
        write_case(args.out, name, model, config, structure, outputs_override=outputs)
        index.append({"name": name, "description": golden["description"], "source": "allscaip-golden public code",
                      "flags": flags_of(config, structure)})
        print(f"{name}: {len(structure['numbers'])} atoms")
    with open(os.path.join(args.out, "index.json"), "w") as f:
        json.dump({"generator": "training/make_fixtures.py", "dtype": "float64", "cases": index}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
