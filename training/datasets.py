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
        # total charge and spin multiplicity (2S+1) of every frame; the defaults are what water and the ionic gas are
        self.charge = int(self.meta.get("charge", 0))
        self.spin = int(self.meta.get("spin", 1))

    def __len__(self):
        return len(self.energy)

    @property
    def n_atoms(self):
        return int(self.numbers.shape[0])

    def structure(self, i):
        return dict(numbers=self.numbers, positions=self.positions[i].astype(np.float64),
                    cell=self.cell[i] if self.pbc.any() else None, pbc=self.pbc,
                    energy=float(self.energy[i]), forces=self.forces[i].astype(np.float64),
                    stress=None if self.stress is None else self.stress[i].astype(np.float64),
                    charge=self.charge, spin=self.spin)


def water_group(traj_id):
    if traj_id.startswith("w64"):
        return "w64"
    if traj_id.startswith("w216"):
        return "w216"
    return "vacuum"


def load_dataset(name, root=OUT_ROOT):
    """{'train': [Trajectory], 'val': [...], 'test': [...]} for 'water', 'water_al', 'ionic_gas' or 'organics'
    (which adds 'test_mol')."""
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
    elif name == "organics":
        return load_organics(root)
    else:
        raise ValueError(f"unknown data set {name!r} (expected 'water', 'water_al', 'ionic_gas' or 'organics')")
    return splits


def organics_group(meta):
    """Sampling group of a molecule of make_organics.py: 'charged', 'radical', 'dimer' or 'neutral'."""
    if meta["charge"] != 0:
        return "charged"
    if meta["spin"] != 1:
        return "radical"
    return "dimer" if meta["source"] == "s22" else "neutral"


def load_organics(root=OUT_ROOT):
    """GFN2-xTB organics (training/data/make_organics.py): one Trajectory per molecule and split, from the
    per-frame split in each molecule's meta. Splits 'train', 'val', 'test' (later MD frames of trained molecules)
    and 'test_mol' (molecules never trained on)."""
    index_path = os.path.join(root, "organics", "index.json")
    if not os.path.exists(index_path):
        raise FileNotFoundError(f"{index_path}: run training/data/make_organics.py first")
    with open(index_path) as f:
        index = json.load(f)
    splits = {"train": [], "val": [], "test": [], "test_mol": []}
    for m in index["molecules"]:
        d = load_frames(os.path.join(root, "organics", m["file"]))
        frame_split = np.array(d["meta"]["frame_split"])
        for split in splits:
            keep = np.flatnonzero(frame_split == split)
            if len(keep) == 0:
                continue
            sub = dict(d, positions=d["positions"][keep], forces=d["forces"][keep], energy=d["energy"][keep],
                       cell=d["cell"][keep])
            splits[split].append(Trajectory(f"{m['id']}/{split}", organics_group(d["meta"]), sub))
    return splits


def subsample(trajs, every):
    """Held-out frames used for evaluation: every `every`-th frame of each trajectory (fixed, deterministic)."""
    return [(ti, fi) for ti, t in enumerate(trajs) for fi in range(0, len(t), every)]
