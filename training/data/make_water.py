"""Teacher data: flexible SPC/Fw water (Wu, Tepper & Voth 2006) labelled by LAMMPS.

One command:  /usr/bin/python3 training/data/make_water.py            (all trajectories, resumable)
              /usr/bin/python3 training/data/make_water.py --only w64  (a subset, by id prefix)

Writes one npz per trajectory to training/data/out/water/<id>.npz plus index.json (split per trajectory).
A trajectory that already has its npz is skipped, so an interrupted run resumes where it stopped.

Periodic boxes: LJ cut 6 Å (+ tail correction) and PPPM (1e-5) in every box size, so all boxes share one
potential-energy surface. Vacuum clusters: the same SPC/Fw terms with plain (uncut, 50 Å) LJ + Coulomb between
molecules, no k-space, no tail: the isolated-molecule energies a heat of vaporization needs.
Units stored: Å, eV, eV/Å (LAMMPS `real` kcal/mol converted once); periodic frames also carry the teacher's
`stress` (eV/Å³, ASE's sign: (1/V)·∂E/∂ε, i.e. minus the virial pressure; see VIRIAL_THERMO).
"""
import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lammps_util import (KCAL_PER_MOL_TO_EV, OUT_ROOT, read_dump, read_thermo, run_lammps,  # noqa: E402
                         save_frames, virial_stress)

# SPC/Fw parameters (LAMMPS real units; harmonic K is k/2 as LAMMPS writes it)
R_OH = 1.012
THETA_HOH = 113.24
Q_O, Q_H = -0.82, 0.41
EPS_OO, SIG_OO = 0.1554, 3.165492
K_BOND, K_ANGLE = 529.581, 37.95
MASS_O, MASS_H = 15.9994, 1.008
WATER_MOLAR_MASS = MASS_O + 2 * MASS_H
AVOGADRO = 0.602214076  # per mol, scaled so g/cm^3 -> amu/Å^3 works out
LJ_CUT_PERIODIC = 6.0  # must stay < L/2 of the 64-molecule box (L ≈ 12.4 Å)
LJ_COUL_CUT_VACUUM = 50.0

WATER_DIR = os.path.join(OUT_ROOT, "water")


def box_length(n_mol, density_g_cm3):
    return (n_mol * WATER_MOLAR_MASS / (AVOGADRO * density_g_cm3)) ** (1.0 / 3.0)


def random_rotation(rng):
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    a, b, c, d = q
    return np.array([
        [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
        [2 * (b * c + a * d), a * a - b * b + c * c - d * d, 2 * (c * d - a * b)],
        [2 * (b * d - a * c), 2 * (c * d + a * b), a * a - b * b - c * c + d * d],
    ])


def molecule_template():
    half = np.radians(THETA_HOH) / 2
    return np.array([[0.0, 0.0, 0.0],
                     [R_OH * np.sin(half), R_OH * np.cos(half), 0.0],
                     [-R_OH * np.sin(half), R_OH * np.cos(half), 0.0]])


def grid_molecules(n_mol, length, rng):
    """Oxygens on a cubic grid, random orientations (the minimiser removes the worst contacts)."""
    per_side = int(round(n_mol ** (1 / 3)))
    assert per_side ** 3 == n_mol, "n_mol must be a cube"
    spacing = length / per_side
    mols = []
    for ix in range(per_side):
        for iy in range(per_side):
            for iz in range(per_side):
                origin = (np.array([ix, iy, iz]) + 0.5) * spacing
                mols.append(origin + molecule_template() @ random_rotation(rng).T)
    return mols


def cluster_molecules(n_mol, rng):
    """Random compact cluster: oxygens at least 2.8 Å apart inside a small sphere."""
    radius = 1.6 * n_mol ** (1 / 3) + 0.5
    oxygens = []
    while len(oxygens) < n_mol:
        p = rng.uniform(-radius, radius, size=3)
        if np.linalg.norm(p) > radius:
            continue
        if all(np.linalg.norm(p - o) >= 2.8 for o in oxygens):
            oxygens.append(p)
    return [o + molecule_template() @ random_rotation(rng).T for o in oxygens]


def write_data(path, mols, bounds):
    n_mol = len(mols)
    lines = ["SPC/Fw water written by make_water.py", "",
             f"{3 * n_mol} atoms", f"{2 * n_mol} bonds", f"{n_mol} angles", "",
             "2 atom types", "1 bond types", "1 angle types", ""]
    for k, axis in enumerate("xyz"):
        lines.append(f"{bounds[k][0]:.10f} {bounds[k][1]:.10f} {axis}lo {axis}hi")
    lines += ["", "Masses", "", f"1 {MASS_O}", f"2 {MASS_H}", "", "Atoms # full", ""]
    for m, xyz in enumerate(mols):
        for j in range(3):
            atom_id = 3 * m + j + 1
            atom_type = 1 if j == 0 else 2
            q = Q_O if j == 0 else Q_H
            lines.append(f"{atom_id} {m + 1} {atom_type} {q} {xyz[j][0]:.8f} {xyz[j][1]:.8f} {xyz[j][2]:.8f}")
    lines += ["", "Bonds", ""]
    for m in range(n_mol):
        lines.append(f"{2 * m + 1} 1 {3 * m + 1} {3 * m + 2}")
        lines.append(f"{2 * m + 2} 1 {3 * m + 1} {3 * m + 3}")
    lines += ["", "Angles", ""]
    for m in range(n_mol):
        lines.append(f"{m + 1} 1 {3 * m + 2} {3 * m + 1} {3 * m + 3}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


FORCE_FIELD = f"""bond_style harmonic
bond_coeff 1 {K_BOND} {R_OH}
angle_style harmonic
angle_coeff 1 {K_ANGLE} {THETA_HOH}
special_bonds lj/coul 0.0 0.0 0.0
"""


# The periodic teacher: read data.lmp, SPC/Fw with LJ cut + tail and PPPM. Every periodic LAMMPS input starts
# with it (training data here, the validation protocol in validate_water.py, the labels of active_learning.py).
PERIODIC_SETUP = f"""units real
atom_style full
boundary p p p
read_data data.lmp
pair_style lj/cut/coul/long {LJ_CUT_PERIODIC}
pair_coeff 1 1 {EPS_OO} {SIG_OO}
pair_coeff * 2 0.0 0.0
{FORCE_FIELD}kspace_style pppm 1.0e-5
pair_modify tail yes
"""


# Thermo columns of the periodic teacher: potential energy and the virial part of the pressure tensor. LAMMPS's
# `press`/`pxx` include the kinetic term m·v⊗v/V; `compute pressure NULL virial` leaves it out, so it is the
# pressure of the potential alone (pair + tail + bonds + angles + PPPM), the one a model of E(x, cell) predicts.
VIRIAL_COMPUTE = "compute pvir all pressure NULL virial\n"
VIRIAL_COLUMNS = ("c_pvir[1]", "c_pvir[2]", "c_pvir[3]", "c_pvir[4]", "c_pvir[5]", "c_pvir[6]")
VIRIAL_THERMO = "step pe " + " ".join(VIRIAL_COLUMNS)


def periodic_script(spec):
    T = spec["temperature"]
    ensemble = (f"fix 1 all npt temp {T} {T} 50.0 iso 1.0 1.0 500.0" if spec.get("npt")
                else f"fix 1 all nvt temp {T} {T} 50.0")
    return f"""{PERIODIC_SETUP}neighbor 2.0 bin
neigh_modify every 1 delay 0 check yes
timestep 0.5
minimize 1.0e-4 1.0e-6 200 2000
reset_timestep 0
velocity all create {T} {spec['seed']} mom yes rot yes dist gaussian
{ensemble}
thermo 1000
run {spec['equil_steps']}
reset_timestep 0
{VIRIAL_COMPUTE}thermo_style custom {VIRIAL_THERMO}
thermo_modify format float %.12g
thermo {spec['stride']}
dump d all custom {spec['stride']} dump.txt id type x y z fx fy fz
dump_modify d sort id format float %.12g
run {spec['stride'] * (spec['n_frames'] - 1)}
"""


def vacuum_script(spec):
    T = spec["temperature"]
    return f"""units real
atom_style full
boundary s s s
read_data data.lmp
pair_style lj/cut/coul/cut {LJ_COUL_CUT_VACUUM}
pair_coeff 1 1 {EPS_OO} {SIG_OO}
pair_coeff * 2 0.0 0.0
{FORCE_FIELD}neighbor 2.0 nsq
comm_modify cutoff {LJ_COUL_CUT_VACUUM + 5}
timestep 0.5
minimize 1.0e-6 1.0e-8 1000 10000
reset_timestep 0
velocity all create {T} {spec['seed']} mom yes rot yes dist gaussian
fix 1 all nve
fix 2 all langevin {T} {T} 100.0 {spec['seed'] + 1} zero yes
fix 3 all momentum 100 linear 1 1 1 angular
thermo 1000
run {spec['equil_steps']}
reset_timestep 0
dump t all custom {spec['stride']} traj.txt id type x y z
dump_modify t sort id format float %.12g
run {spec['stride'] * (spec['n_frames'] - 1)}
undump t
# fix langevin adds friction and noise to the per-atom forces, so label the sampled positions by a rerun
unfix 3
unfix 2
unfix 1
thermo_style custom step pe
thermo_modify format float %.12g lost ignore
thermo {spec['stride']}
dump d all custom {spec['stride']} dump.txt id type x y z fx fy fz
dump_modify d sort id format float %.12g
rerun traj.txt dump x y z
"""


def trajectory_specs():
    """Every trajectory, with its split. Seeds are fixed so the data set is reproducible."""
    specs = []
    temps = [270, 300, 330, 370]
    dens = [0.9, 1.0, 1.1]  # g/cm^3: ±10% around liquid water
    for ti, T in enumerate(temps):
        for ri, rho in enumerate(dens):
            for rep in range(2):
                # held-out trajectories cover every temperature and every density
                if rep == 0:
                    split = "train"
                else:
                    split = ["test", "val", "train"][(ti + ri) % 3]
                specs.append(dict(id=f"w64_T{T}_rho{rho:.1f}_r{rep}", kind="periodic", n_mol=64, temperature=T,
                                  density=rho, seed=1000 + 100 * ti + 10 * ri + rep, equil_steps=10000,
                                  stride=100, n_frames=200, split=split))
    specs.append(dict(id="w64_npt_T300_r0", kind="periodic", n_mol=64, temperature=300, density=1.0, npt=True,
                      seed=1901, equil_steps=10000, stride=100, n_frames=150, split="train"))
    for T, split in [(270, "train"), (300, "test"), (330, "val"), (370, "train")]:
        specs.append(dict(id=f"w216_T{T}_rho1.0", kind="periodic", n_mol=216, temperature=T, density=1.0,
                          seed=2000 + T, equil_steps=4000, stride=100, n_frames=80, split=split))
    # vacuum: monomers over a wide temperature range, small clusters below their evaporation range
    for T in [100, 200, 300, 400, 500]:
        for rep, split in enumerate(["train", "train", "test"] if T in (300, 400) else ["train"]):
            specs.append(dict(id=f"vac1_T{T}_r{rep}", kind="vacuum", n_mol=1, temperature=T,
                              seed=3000 + T + rep, equil_steps=2000, stride=40, n_frames=100, split=split))
    for n in [2, 3, 4, 5, 6, 8]:
        for T in [150, 250]:
            for rep, split in enumerate(["train", "val" if n in (3, 6) and T == 250 else "test" if T == 250 else "train"]):
                specs.append(dict(id=f"vac{n}_T{T}_r{rep}", kind="vacuum", n_mol=n, temperature=T,
                                  seed=4000 + 10 * n + T + rep, equil_steps=2000, stride=50, n_frames=100,
                                  split=split))
    return specs


def generate(spec, workroot):
    rng = np.random.default_rng(spec["seed"])
    work = os.path.join(workroot, spec["id"])
    os.makedirs(work, exist_ok=True)
    if spec["kind"] == "periodic":
        L = box_length(spec["n_mol"], spec["density"])
        mols = grid_molecules(spec["n_mol"], L, rng)
        write_data(os.path.join(work, "data.lmp"), mols, [(0.0, L)] * 3)
        script = periodic_script(spec)
    else:
        mols = cluster_molecules(spec["n_mol"], rng)
        write_data(os.path.join(work, "data.lmp"), mols, [(-30.0, 30.0)] * 3)
        script = vacuum_script(spec)
    seconds = run_lammps(script, work)
    periodic = spec["kind"] == "periodic"
    thermo = read_thermo(os.path.join(work, "log.lammps"),
                         ("Step", "PotEng") + (VIRIAL_COLUMNS if periodic else ()))
    frames = read_dump(os.path.join(work, "dump.txt"))
    steps = np.array([f[0] for f in frames])
    if not np.array_equal(steps, thermo["Step"].astype(int)):
        raise RuntimeError(f"{spec['id']}: dump steps and thermo steps differ")
    n_atoms = 3 * spec["n_mol"]
    types = frames[0][2]["type"].astype(int)
    numbers = np.where(types == 1, 8, 1)
    pos = np.stack([np.stack([f[2]["x"], f[2]["y"], f[2]["z"]], axis=1) for f in frames])
    frc = np.stack([np.stack([f[2]["fx"], f[2]["fy"], f[2]["fz"]], axis=1) for f in frames]) * KCAL_PER_MOL_TO_EV
    energy = thermo["PotEng"] * KCAL_PER_MOL_TO_EV
    if spec["kind"] == "periodic":
        cells = np.stack([np.diag(f[1][:, 1] - f[1][:, 0]) for f in frames])
        pos = pos - np.stack([f[1][:, 0] for f in frames])[:, None, :]  # origin at box corner
        pbc = [True, True, True]
        stress = virial_stress([thermo[c] for c in VIRIAL_COLUMNS])
    else:
        cells = np.zeros((len(frames), 3, 3))
        pbc = [False, False, False]
        stress = None  # no cell, no stress
    assert pos.shape == (len(frames), n_atoms, 3)
    meta = dict(spec, teacher="SPC/Fw (LAMMPS 20220106)", lammps_seconds=round(seconds, 2),
                long_range="pppm 1e-5, LJ cut 6 A + tail" if spec["kind"] == "periodic" else "none (vacuum, 50 A)")
    save_frames(os.path.join(WATER_DIR, spec["id"] + ".npz"), numbers, pos, frc, energy, cells, pbc, meta,
                stress=stress)
    return seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default="", help="generate only trajectories whose id starts with this")
    ap.add_argument("--list", action="store_true", help="print the trajectory plan and exit")
    args = ap.parse_args()
    specs = [s for s in trajectory_specs() if s["id"].startswith(args.only)]
    if args.list:
        for s in specs:
            print(s["id"], s["split"], s["n_frames"])
        return
    os.makedirs(WATER_DIR, exist_ok=True)
    t_start = time.time()
    with tempfile.TemporaryDirectory(prefix="water_lmp_") as workroot:
        for i, spec in enumerate(specs):
            path = os.path.join(WATER_DIR, spec["id"] + ".npz")
            if os.path.exists(path):
                continue
            sec = generate(spec, workroot)
            print(f"[{i + 1}/{len(specs)}] {spec['id']}: {spec['n_frames']} frames, LAMMPS {sec:.1f} s, "
                  f"elapsed {time.time() - t_start:.0f} s", flush=True)
    index = {"teacher": "SPC/Fw water, LAMMPS", "trajectories": [
        {"id": s["id"], "file": s["id"] + ".npz", "split": s["split"], "n_frames": s["n_frames"],
         "n_atoms": 3 * s["n_mol"], "kind": s["kind"]} for s in trajectory_specs()
        if os.path.exists(os.path.join(WATER_DIR, s["id"] + ".npz"))]}
    with open(os.path.join(WATER_DIR, "index.json"), "w") as f:
        json.dump(index, f, indent=1)
    print(f"done in {time.time() - t_start:.0f} s; index: {os.path.join(WATER_DIR, 'index.json')}")


if __name__ == "__main__":
    main()
