"""Teacher data for the long-range study: the "random ionic gas" (LJ + full Ewald), labelled by LAMMPS rerun.

One command:  /usr/bin/python3 training/data/make_ionic_gas.py

192 point charges (96 Na+ as Z=11, 96 Cl- as Z=17) at random in a 24 Å periodic cube, at least 2.4 Å apart.
Energy: LJ (eps 0.1 kcal/mol, sigma 2.5 Å, cut 6 Å, shifted) + Ewald Coulomb (1e-6) screened by dielectric 20.
Frames are independent draws, so the split is by frame (fixed seeds; train/val/test = separate files).
Also writes the Na+...Cl- separation curve: one Na+ and one Cl- along the cube's body diagonal at 3..15 Å,
inside three fixed random backgrounds of the other 190 ions kept >= 2.4 Å from the line between them.
Output: training/data/out/ionic_gas/{train,val,test,separation}.npz (Å, eV, eV/Å). Resumable per file.
"""
import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lammps_util import KCAL_PER_MOL_TO_EV, OUT_ROOT, read_dump, read_thermo, run_lammps, save_frames  # noqa: E402

BOX = 24.0
N_ION = 192
MIN_DIST = 2.4
Z_NA, Z_CL = 11, 17
MASS = {Z_NA: 22.99, Z_CL: 35.45}
CHARGE = {Z_NA: 1.0, Z_CL: -1.0}
OUT_DIR = os.path.join(OUT_ROOT, "ionic_gas")
SPLITS = {"train": (1200, 11), "val": (100, 22), "test": (150, 33)}  # frames, seed
SEPARATIONS = np.round(np.arange(3.0, 15.0001, 0.25), 4)
N_BACKGROUNDS = 3


def min_image(d):
    return d - BOX * np.round(d / BOX)


def place_random(rng, n, fixed=np.zeros((0, 3))):
    """n random points in the cube, >= MIN_DIST from each other and from `fixed` (minimum image)."""
    pts = np.empty((0, 3))
    others = fixed.copy()
    while len(pts) < n:
        p = rng.uniform(0.0, BOX, size=3)
        if len(others) and np.min(np.linalg.norm(min_image(others - p), axis=1)) < MIN_DIST:
            continue
        pts = np.vstack([pts, p])
        others = np.vstack([others, p])
    return pts


def random_frame(rng):
    numbers = np.array([Z_NA] * (N_ION // 2) + [Z_CL] * (N_ION // 2))
    return numbers, place_random(rng, N_ION)


def separation_frames(rng):
    """Frames with Na+ at the cube centre and Cl- at distance d along (1,1,1)/sqrt3, fixed background."""
    centre = np.full(3, BOX / 2)
    axis = np.ones(3) / np.sqrt(3.0)
    # points along the whole path keep the background off the line the Cl- travels
    path = centre + np.arange(-MIN_DIST, SEPARATIONS[-1] + MIN_DIST + 1e-9, 0.2)[:, None] * axis
    frames = []
    for b in range(N_BACKGROUNDS):
        background = place_random(rng, N_ION - 2, fixed=path)
        for d in SEPARATIONS:
            pos = np.vstack([centre, centre + d * axis, background])
            numbers = np.array([Z_NA, Z_CL] + [Z_NA] * (N_ION // 2 - 1) + [Z_CL] * (N_ION // 2 - 1))
            frames.append((numbers, pos % BOX, b, d))
    return frames


def label(frames_numbers_pos, workdir):
    """Energies and forces of fixed configurations by LAMMPS rerun (no dynamics)."""
    numbers = frames_numbers_pos[0][0]
    lines = ["ionic gas written by make_ionic_gas.py", "", f"{len(numbers)} atoms", "2 atom types", "",
             f"0 {BOX} xlo xhi", f"0 {BOX} ylo yhi", f"0 {BOX} zlo zhi", "", "Masses", "",
             f"1 {MASS[Z_NA]}", f"2 {MASS[Z_CL]}", "", "Atoms # charge", ""]
    pos0 = frames_numbers_pos[0][1]
    for i, z in enumerate(numbers):
        lines.append(f"{i + 1} {1 if z == Z_NA else 2} {CHARGE[z]} {pos0[i][0]:.8f} {pos0[i][1]:.8f} {pos0[i][2]:.8f}")
    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(workdir, "data.lmp"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(workdir, "frames.dump"), "w") as f:
        for step, (nums, pos) in enumerate(frames_numbers_pos):
            assert np.array_equal(nums, numbers), "every frame must list the ions in the same order"
            f.write(f"ITEM: TIMESTEP\n{step}\nITEM: NUMBER OF ATOMS\n{len(nums)}\n"
                    f"ITEM: BOX BOUNDS pp pp pp\n0 {BOX}\n0 {BOX}\n0 {BOX}\nITEM: ATOMS id x y z\n")
            f.write("\n".join(f"{i + 1} {p[0]:.10f} {p[1]:.10f} {p[2]:.10f}" for i, p in enumerate(pos)) + "\n")
    script = f"""units real
atom_style charge
boundary p p p
read_data data.lmp
pair_style lj/cut/coul/long 6.0 8.0
pair_coeff * * 0.1 2.5
pair_modify shift yes
kspace_style ewald 1.0e-6
dielectric 20.0
thermo_style custom step pe
thermo_modify format float %.12g
thermo 1
dump d all custom 1 dump.txt id type x y z fx fy fz
dump_modify d sort id format float %.12g
rerun frames.dump dump x y z
"""
    seconds = run_lammps(script, workdir)
    thermo = read_thermo(os.path.join(workdir, "log.lammps"))
    dumped = read_dump(os.path.join(workdir, "dump.txt"))
    if len(dumped) != len(frames_numbers_pos) or len(thermo["Step"]) != len(frames_numbers_pos):
        raise RuntimeError(f"rerun labelled {len(dumped)} dumps / {len(thermo['Step'])} energies for "
                           f"{len(frames_numbers_pos)} frames")
    forces = np.stack([np.stack([f[2]["fx"], f[2]["fy"], f[2]["fz"]], 1) for f in dumped]) * KCAL_PER_MOL_TO_EV
    return thermo["PotEng"] * KCAL_PER_MOL_TO_EV, forces, seconds


def main():
    argparse.ArgumentParser(description=__doc__.split("\n")[0]).parse_args()
    os.makedirs(OUT_DIR, exist_ok=True)
    t0 = time.time()
    cell = np.eye(3) * BOX
    with tempfile.TemporaryDirectory(prefix="ionic_lmp_") as work:
        for split, (n_frames, seed) in SPLITS.items():
            path = os.path.join(OUT_DIR, f"{split}.npz")
            if os.path.exists(path):
                continue
            rng = np.random.default_rng(seed)
            frames = [random_frame(rng) for _ in range(n_frames)]
            energy, forces, sec = label(frames, os.path.join(work, split))
            meta = dict(split=split, seed=seed, n_frames=n_frames, box=BOX, teacher="LJ + Ewald (LAMMPS), dielectric 20",
                        lammps_seconds=round(sec, 2))
            save_frames(path, frames[0][0], np.stack([f[1] for f in frames]), forces, energy,
                        np.repeat(cell[None], n_frames, 0), [True] * 3, meta)
            print(f"{split}: {n_frames} frames, LAMMPS {sec:.1f} s, elapsed {time.time() - t0:.0f} s", flush=True)
        path = os.path.join(OUT_DIR, "separation.npz")
        if not os.path.exists(path):
            frames = separation_frames(np.random.default_rng(44))
            energy, forces, sec = label([(f[0], f[1]) for f in frames], os.path.join(work, "separation"))
            meta = dict(split="separation", seed=44, separations=SEPARATIONS.tolist(), n_backgrounds=N_BACKGROUNDS,
                        box=BOX, teacher="LJ + Ewald (LAMMPS), dielectric 20", lammps_seconds=round(sec, 2),
                        layout="frames ordered background-major; atom 0 = Na+, atom 1 = Cl-")
            save_frames(path, frames[0][0], np.stack([f[1] for f in frames]), forces, energy,
                        np.repeat(cell[None], len(frames), 0), [True] * 3, meta)
            print(f"separation: {len(frames)} frames, LAMMPS {sec:.1f} s", flush=True)
    with open(os.path.join(OUT_DIR, "index.json"), "w") as f:
        json.dump({"files": sorted(os.listdir(OUT_DIR))}, f)
    print(f"done in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
