"""Teacher data sets as lists of trajectories, split by trajectory (water) or by file (ionic gas)."""
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "data"))
from lammps_util import OUT_ROOT, load_frames  # noqa: E402


class Trajectory:
    def __init__(self, name, group, d):
        self.name = name
        self.group = group  # sampling group, e.g. "w64", "w216", "vacuum", "ionic"
        self.numbers = torch.as_tensor(d["numbers"].astype(np.int64))
        self.positions = d["positions"]
        self.forces = d["forces"]
        self.energy = d["energy"]
        self.cell = d["cell"]
        self.pbc = np.asarray(d["pbc"], dtype=bool)
        # teacher stress (eV/Å³, ASE sign, virial only) per frame, or None where the teacher gave none (vacuum,
        # and files written before the stress was stored)
        self.stress = d.get("stress")
        self.meta = d["meta"]

    def __len__(self):
        return len(self.energy)

    @property
    def n_atoms(self):
        return int(self.numbers.shape[0])

    def structure(self, i):
        return dict(numbers=self.numbers, positions=self.positions[i].astype(np.float64),
                    cell=self.cell[i] if self.pbc.any() else None, pbc=self.pbc,
                    energy=float(self.energy[i]), forces=self.forces[i].astype(np.float64),
                    stress=None if self.stress is None else self.stress[i].astype(np.float64))


def water_group(traj_id):
    if traj_id.startswith("w64"):
        return "w64"
    if traj_id.startswith("w216"):
        return "w216"
    return "vacuum"


def load_dataset(name, root=OUT_ROOT):
    """{'train': [Trajectory], 'val': [...], 'test': [...]} for 'water', 'water_al' or 'ionic_gas'."""
    splits = {"train": [], "val": [], "test": []}
    if name in ("water", "water_al"):
        # water_al: the teacher trajectories plus the active-learning frames (training/active_learning.py)
        for sub, group in [("water", None)] + ([("water_al", "al")] if name == "water_al" else []):
            index_path = os.path.join(root, sub, "index.json")
            if not os.path.exists(index_path):
                script = "data/make_water.py" if sub == "water" else "active_learning.py"
                raise FileNotFoundError(f"{index_path}: run training/{script} first")
            with open(index_path) as f:
                index = json.load(f)
            for t in index["trajectories"]:
                d = load_frames(os.path.join(root, sub, t["file"]))
                splits[t["split"]].append(Trajectory(t["id"], group or water_group(t["id"]), d))
    elif name == "ionic_gas":
        for split in splits:
            path = os.path.join(root, "ionic_gas", f"{split}.npz")
            if not os.path.exists(path):
                raise FileNotFoundError(f"{path}: run training/data/make_ionic_gas.py first")
            splits[split].append(Trajectory(f"ionic_{split}", "ionic", load_frames(path)))
    else:
        raise ValueError(f"unknown data set {name!r} (expected 'water', 'water_al' or 'ionic_gas')")
    return splits


def subsample(trajs, every):
    """Held-out frames used for evaluation: every `every`-th frame of each trajectory (fixed, deterministic)."""
    return [(ti, fi) for ti, t in enumerate(trajs) for fi in range(0, len(t), every)]
