"""Small helpers shared by the teacher-data scripts: run LAMMPS, read its dumps and logs, write npz.

LAMMPS runs on one MPI rank (serial `lmp`): on this 2-core shared machine two ranks were 10x slower when busy.
"""
import json
import os
import subprocess
import time

import numpy as np
from ase import units

LMP = os.environ.get("LMP", "/usr/bin/lmp")
KCAL_PER_MOL_TO_EV = units.kcal / units.mol  # 0.0433641 eV
ATM_TO_EV_PER_A3 = 101325.0 * units.Pascal  # LAMMPS `real` pressure unit (atm) in eV/Å³: 6.3242e-7

OUT_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")


def run_lammps(script_text, workdir, log_name="log.lammps"):
    """Run one LAMMPS input in `workdir`; raise with the log tail if it fails."""
    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(workdir, "in.lmp"), "w") as f:
        f.write(script_text)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    t0 = time.time()
    proc = subprocess.run([LMP, "-in", "in.lmp", "-log", log_name, "-screen", "none"], cwd=workdir,
                          env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = ""
        log_path = os.path.join(workdir, log_name)
        if os.path.exists(log_path):
            with open(log_path) as f:
                tail = "".join(f.readlines()[-30:])
        raise RuntimeError(f"LAMMPS failed in {workdir} (rc {proc.returncode}):\n{proc.stderr[-2000:]}\n{tail}")
    return time.time() - t0


def read_thermo(log_path, columns=("Step", "PotEng")):
    """Return the LAST thermo table of a LAMMPS log (the production run) as {column: array}."""
    rows = []
    header = None
    with open(log_path) as f:
        in_table = False
        for line in f:
            parts = line.split()
            if parts and parts[0] == "Step":
                header = parts
                rows = []
                in_table = True
                continue
            if in_table:
                if not parts or parts[0] == "Loop" or parts[0].startswith("WARNING"):
                    in_table = False
                    continue
                try:
                    rows.append([float(p) for p in parts])
                except ValueError:
                    in_table = False
    if header is None:
        raise RuntimeError(f"{log_path}: no thermo table found")
    table = np.array(rows)
    return {name: table[:, header.index(name)] for name in columns}


def read_dump(path):
    """Read a `dump custom ... id type x y z fx fy fz` file sorted by id. Returns list of (step, box, array)."""
    frames = []
    with open(path) as f:
        lines = f.readlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("ITEM: TIMESTEP"):
            step = int(lines[i + 1])
            n = int(lines[i + 3])
            bounds = np.array([[float(x) for x in lines[i + 5 + k].split()[:2]] for k in range(3)])
            cols = lines[i + 8].split()[2:]
            data = np.array([[float(x) for x in ln.split()] for ln in lines[i + 9:i + 9 + n]])
            frames.append((step, bounds, {c: data[:, j] for j, c in enumerate(cols)}))
            i += 9 + n
        else:
            i += 1
    return frames


def virial_stress(p6):
    """ASE stress (eV/Å³, 3×3 per frame) from LAMMPS `compute pressure NULL virial` columns pxx pyy pzz pxy pxz pyz
    (atm, `real` units). LAMMPS's virial pressure is P = (1/V)·Σ r⊗f = −(1/V)·∂E/∂ε; ASE's stress is
    +(1/V)·∂E/∂ε, so stress = −P."""
    pxx, pyy, pzz, pxy, pxz, pyz = (np.asarray(c, dtype=np.float64) for c in p6)
    p = np.stack([np.stack([pxx, pxy, pxz], -1), np.stack([pxy, pyy, pyz], -1), np.stack([pxz, pyz, pzz], -1)], -2)
    return -p * ATM_TO_EV_PER_A3


def save_frames(path, numbers, positions, forces, energy, cell, pbc, meta, stress=None):
    """Write one trajectory as npz: positions/forces float32 (Å, eV/Å), energy float64 (eV), and for periodic
    frames the teacher's stress (float64, eV/Å³, ASE sign; absent when the teacher has none)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp.npz"
    np.savez_compressed(
        tmp,
        numbers=np.asarray(numbers, dtype=np.int16),
        positions=np.asarray(positions, dtype=np.float32),
        forces=np.asarray(forces, dtype=np.float32),
        energy=np.asarray(energy, dtype=np.float64),
        cell=np.asarray(cell, dtype=np.float64),
        pbc=np.asarray(pbc, dtype=bool),
        meta=np.array(json.dumps(meta)),
        **({} if stress is None else {"stress": np.asarray(stress, dtype=np.float64)}),
    )
    os.replace(tmp, path)  # atomic: a killed run never leaves a half-written trajectory behind


def load_frames(path):
    d = np.load(path)
    out = {k: d[k] for k in d.files}
    out["meta"] = json.loads(str(out["meta"]))
    return out
