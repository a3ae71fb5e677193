"""Teacher data: small organic molecules (H, C, N, O), neutral, charged and radical, labelled by GFN2-xTB.

One command:  /usr/bin/python3 training/data/make_organics.py              (all molecules, resumable)
              /usr/bin/python3 training/data/make_organics.py --list       (the plan: ids, charge, spin, split)
              /usr/bin/python3 training/data/make_organics.py --only aspirin,caffeine
              /usr/bin/python3 training/data/make_organics.py --pack       (write the committed compact copy)
              /usr/bin/python3 training/data/make_organics.py --unpack     (restore out/ from it, no xtb)
              /usr/bin/python3 training/data/make_organics.py --extra-md 4 (more MD frames, train split only)

Molecules: ASE's g2 set filtered to H, C, N, O (radicals with their g2 multiplicity), drug-like molecules and
charged/radical forms from SMILES (RDKit ETKDG, fixed seed), and hydrogen-bonded / dispersion dimers of ASE's
s22 set. Per molecule: `xtb --opt`, one short xTB MD run (NVT, 300/500/800 K by molecule, no SHAKE, real H mass)
whose dumped frames are relabelled, and geometries displaced at random around the minimum. Every configuration
is labelled by `xtb --grad` with the molecule's `--chrg` and `--uhf`: energy Hartree -> eV, gradient
Hartree/Bohr -> forces eV/Å with the minus sign (checked against finite differences in
tests/test_make_organics.py).

Split by molecule first: HELD_OUT molecules are never trained on (all their frames are `test_mol`). For the
others the MD frames are split by time (first 70 % train, then val, then the last 20 % test: `test`), displaced
frames are train. The split of each frame is in the npz's meta (`frame_split`).

Writes training/data/out/organics/<id>.npz (numbers, positions, forces, energy, cell, pbc, meta with charge
and spin multiplicity) and index.json. A molecule whose npz exists is skipped; before generating, molecules
missing from out/ are restored from the committed pack (training/data/organics-xtb.npz), so a fresh checkout
does not recompute them. ORGANICS_DIR=<dir> writes and reads <dir> instead of training/data/out/organics.

More training frames (`--extra-md K`): K further xTB MD runs per trained molecule (never a held-out one), each
started at the stored minimum with Maxwell-Boltzmann velocities from a seed of (molecule id, run index) handed to
xtb through its `mdrestart` file (xtb's own start velocities are seeded from the clock), same length, step and
dump interval as the first run, labelled by `label()`. They are appended to the molecule's npz with split
`train`; the existing frames, their splits and every `val` / `test` / `test_mol` frame stay as they are, so
held-out numbers stay comparable. meta `extra_md_runs` counts the runs done (one npz rewrite per run: a killed
generation loses at most the run in progress); the same K again does nothing, a larger K adds the missing runs.
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
from ase import Atoms, units
from ase.io import read, write

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lammps_util import OUT_ROOT, load_frames  # noqa: E402

XTB = os.environ.get("XTB", shutil.which("xtb") or "/usr/bin/xtb")
HARTREE_TO_EV = units.Hartree  # 27.211386 eV
BOHR_TO_A = units.Bohr  # 0.529177 Å
ORG_DIR = os.environ.get("ORGANICS_DIR") or os.path.join(OUT_ROOT, "organics")
PACK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "organics-xtb.npz")
ELEMENTS = {"H", "C", "N", "O"}

MD_TIME_PS = 0.4  # one short run per molecule: 20 frames 20 fs apart
MD_DUMP_FS = 20.0
MD_STEP_FS = 0.5  # real H mass and no SHAKE (the bonds must move), so a short step
N_DISPLACED = 10
MAX_FORCE = 30.0  # eV/Å; frames beyond it are dropped (atoms on top of each other, not a surface we want)

# (id, SMILES, charge, unpaired electrons)
SMILES = [
    ("aspirin", "CC(=O)Oc1ccccc1C(=O)O", 0, 0),
    ("paracetamol", "CC(=O)Nc1ccc(O)cc1", 0, 0),
    ("caffeine", "Cn1cnc2c1c(=O)n(C)c(=O)n2C", 0, 0),
    ("ibuprofen", "CC(C)Cc1ccc(cc1)C(C)C(=O)O", 0, 0),
    ("glycine", "NCC(=O)O", 0, 0),
    ("alanine", "CC(N)C(=O)O", 0, 0),
    ("serine", "OCC(N)C(=O)O", 0, 0),
    ("urea", "NC(N)=O", 0, 0),
    ("benzoic_acid", "OC(=O)c1ccccc1", 0, 0),
    ("phenol", "Oc1ccccc1", 0, 0),
    ("imidazole", "c1cnc[nH]1", 0, 0),
    ("nicotinamide", "NC(=O)c1cccnc1", 0, 0),
    ("salicylic_acid", "OC(=O)c1ccccc1O", 0, 0),
    ("ethyl_acetate", "CCOC(C)=O", 0, 0),
    ("uracil", "O=c1cc[nH]c(=O)[nH]1", 0, 0),
    ("acetate", "CC(=O)[O-]", -1, 0),
    ("formate", "O=C[O-]", -1, 0),
    ("aspirin_anion", "CC(=O)Oc1ccccc1C(=O)[O-]", -1, 0),
    ("phenolate", "[O-]c1ccccc1", -1, 0),
    ("methylammonium", "C[NH3+]", 1, 0),
    ("ammonium", "[NH4+]", 1, 0),
    ("imidazolium", "c1c[nH+]c[nH]1", 1, 0),
    ("hydronium", "[OH3+]", 1, 0),
    ("benzyl", "[CH2]c1ccccc1", 0, 1),
    ("phenoxyl", "[O]c1ccccc1", 0, 1),
    ("hydroxymethyl", "[CH2]O", 0, 1),
    # held out (never trained on): relatives of trained molecules, one of each kind
    ("theophylline", "Cn1c2nc[nH]c2c(=O)n(C)c1=O", 0, 0),
    ("phenacetin", "CCOc1ccc(NC(C)=O)cc1", 0, 0),
    ("valine", "CC(C)C(N)C(=O)O", 0, 0),
    ("propanoate", "CCC(=O)[O-]", -1, 0),
    ("ethylammonium", "CC[NH3+]", 1, 0),
    ("allyl", "[CH2]C=C", 0, 1),
]
S22_DIMERS = ["Water_dimer", "Ammonia_dimer", "Formic_acid_dimer", "Formamide_dimer", "Methane_dimer",
              "Ethene_dimer", "Benzene-water_complex", "Phenol_dimer"]
HELD_OUT = {"theophylline", "phenacetin", "valine", "propanoate", "ethylammonium", "allyl",
            "g2_C5H5N", "g2_CH3CH2NH2", "g2_isobutane", "g2_C3H7", "g2_C4H4O", "s22_Ethene_dimer"}
TEMPERATURES = (300.0, 500.0, 800.0)
# Temperatures of the extra MD runs (--extra-md), by run index. The shipped model is far off on its training frames
# (force MAE 112 meV/Å) as well as on validation (165) and test (177): the extra data go where the models are used
# (MD near room temperature: half the runs at 300 K, a quarter at 500 K for a wider thermal spread), and one run in
# four stays at 800 K so the stretched geometries of the 800 K test frames (about a third of the molecules) are
# still covered.
# Dimers stay at 300 K, as in their first run (a hot dimer falls apart).
EXTRA_TEMPERATURES = (300.0, 500.0, 300.0, 800.0)


def seed_of(mol_id):
    return int(hashlib.sha256(mol_id.encode()).hexdigest()[:8], 16)


def molecule_specs():
    """Every molecule of the plan, in generation order (drug-like and charged first: they matter most)."""
    from ase.collections import g2, s22

    specs = []
    for mol_id, smiles, charge, uhf in SMILES:
        specs.append(dict(id=mol_id, source="smiles", smiles=smiles, charge=charge, uhf=uhf))
    for name in S22_DIMERS:
        specs.append(dict(id=f"s22_{name}", source="s22", name=name, charge=0, uhf=0))
    for name in g2.names:
        a = g2[name]
        if len(a) < 2 or not set(a.get_chemical_symbols()) <= ELEMENTS:
            continue
        uhf = int(round(a.get_initial_magnetic_moments().sum()))
        specs.append(dict(id=f"g2_{name}", source="g2", name=name, charge=0, uhf=uhf))
    for i, s in enumerate(specs):
        s["spin"] = s["uhf"] + 1  # spin multiplicity 2S+1, what the model's spin embedding takes
        s["split"] = "heldout" if s["id"] in HELD_OUT else "train"
        # dimers stay at 300 K (a hot dimer just falls apart); the rest cycle through the temperatures
        s["temperature"] = 300.0 if s["source"] == "s22" else TEMPERATURES[i % len(TEMPERATURES)]
    return specs


def build_atoms(spec):
    if spec["source"] == "g2":
        from ase.collections import g2
        return g2[spec["name"]].copy()
    if spec["source"] == "s22":
        from ase.collections import s22
        return s22[spec["name"]].copy()
    from rdkit import Chem
    from rdkit.Chem import AllChem
    mol = Chem.AddHs(Chem.MolFromSmiles(spec["smiles"]))
    params = AllChem.ETKDGv3()
    params.randomSeed = 0xC0FFEE
    if AllChem.EmbedMolecule(mol, params) != 0:
        raise RuntimeError(f"{spec['id']}: RDKit could not embed {spec['smiles']!r}")
    pos = mol.GetConformer().GetPositions()
    return Atoms([a.GetSymbol() for a in mol.GetAtoms()], positions=pos)


def run_xtb(workdir, atoms, args, charge, uhf, inp=None, files=None):
    """Run xtb on `atoms` in `workdir` (one thread); raise with the output's tail if it fails. `files`: more input
    files {name: text} written after the old outputs are removed (an `mdrestart` for a seeded MD start)."""
    for name in ("gradient", "energy", "xtbrestart", "xtbopt.xyz", "xtb.trj", "mol.engrad", ".xtboptok",
                 "xtbmdok", "mdrestart"):
        p = os.path.join(workdir, name)
        if os.path.exists(p):
            os.remove(p)
    write(os.path.join(workdir, "mol.xyz"), atoms, format="xyz")
    cmd = [XTB, "mol.xyz", *args, "--chrg", str(charge), "--uhf", str(uhf)]
    if inp is not None:
        with open(os.path.join(workdir, "md.inp"), "w") as f:
            f.write(inp)
        cmd += ["--input", "md.inp"]
    for name, text in (files or {}).items():
        with open(os.path.join(workdir, name), "w") as f:
            f.write(text)
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OMP_STACKSIZE="500M")
    proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True)
    if proc.returncode != 0 or "normal termination" not in proc.stderr + proc.stdout:
        raise RuntimeError(f"xtb {' '.join(args)} failed in {workdir} (rc {proc.returncode}):\n"
                           f"{(proc.stdout + proc.stderr)[-1500:]}")
    return proc.stdout


def read_engrad(path, n_atoms):
    """(energy eV, forces eV/Å) from xtb's ORCA-style .engrad file (Hartree, gradient Hartree/Bohr)."""
    with open(path) as f:
        values = [ln.strip() for ln in f if ln.strip() and not ln.startswith("#")]
    if int(values[0]) != n_atoms:
        raise RuntimeError(f"{path}: {values[0]} atoms, expected {n_atoms}")
    energy_h = float(values[1])
    grad = np.array([float(v) for v in values[2:2 + 3 * n_atoms]]).reshape(n_atoms, 3)
    return energy_h * HARTREE_TO_EV, -grad * (HARTREE_TO_EV / BOHR_TO_A)


def _generic_rotation():
    # a fixed rotation with no axis near x, y or z (from a fixed quaternion)
    q = np.array([0.8, 0.31, -0.42, 0.29])
    a, b, c, d = q / np.linalg.norm(q)
    return np.array([[a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
                     [2 * (b * c + a * d), a * a - b * b + c * c - d * d, 2 * (c * d - a * b)],
                     [2 * (b * d - a * c), 2 * (c * d + a * b), a * a - b * b - c * c + d * d]])


# xtb 6.5.1's analytic gradient is wrong when a bond lies exactly along a coordinate axis (measured: formate with
# C-H on z, 0.33 eV/Å off the central difference of its own energy; the energy itself is right). g2 geometries and
# their optimised minima have such bonds, so every configuration is handed to xtb rotated by this fixed rotation
# and the forces are rotated back.
XTB_ROTATION = _generic_rotation()


def label(workdir, atoms, charge, uhf, acc=None):
    """GFN2-xTB energy (eV) and forces (eV/Å) of one configuration."""
    args = ["--grad"] + (["--acc", str(acc)] if acc is not None else [])
    rotated = atoms.copy()
    rotated.set_positions(atoms.get_positions() @ XTB_ROTATION.T)
    run_xtb(workdir, rotated, args, charge, uhf)
    energy, forces = read_engrad(os.path.join(workdir, "mol.engrad"), len(atoms))
    return energy, forces @ XTB_ROTATION


def relabel(spec, path, workroot):
    """Label the stored positions of one molecule again (same frames, same split); frames the teacher now fails
    on or finds above MAX_FORCE are dropped. Returns (frames kept, frames dropped)."""
    d = np.load(path)
    meta = json.loads(str(d["meta"]))
    workdir = tempfile.mkdtemp(prefix=spec["id"] + "_", dir=workroot)
    atoms = Atoms(numbers=d["numbers"].astype(int))
    keep, forces, energy = [], [], []
    for i, p in enumerate(d["positions"]):
        atoms.set_positions(p.astype(np.float64))
        try:
            e, f = label(workdir, atoms, spec["charge"], spec["uhf"])
        except RuntimeError:
            continue
        if np.abs(f).max() > MAX_FORCE:
            continue
        keep.append(i)
        forces.append(f)
        energy.append(e)
    dropped = len(d["positions"]) - len(keep)
    meta.update(n_frames=len(keep), dropped=meta.get("dropped", 0) + dropped,
                frame_source=[meta["frame_source"][i] for i in keep],
                frame_split=[meta["frame_split"][i] for i in keep], relabelled=True)
    tmp = path + ".tmp.npz"
    np.savez_compressed(tmp, numbers=d["numbers"], positions=d["positions"][keep],
                        forces=np.asarray(forces, np.float32), energy=np.asarray(energy, np.float64),
                        cell=d["cell"][keep], pbc=d["pbc"], meta=np.array(json.dumps(meta)))
    os.replace(tmp, path)
    shutil.rmtree(workdir, ignore_errors=True)
    return len(keep), dropped


def label_is_current(spec, path, workroot, tol_ev=1e-4):
    """Whether the first stored frame's energy is what label() gives today (labels written with an older,
    wrong XTB_ROTATION are not: it was not a rotation, so xtb saw a stretched molecule)."""
    d = np.load(path)
    workdir = tempfile.mkdtemp(prefix=spec["id"] + "_check_", dir=workroot)
    atoms = Atoms(numbers=d["numbers"].astype(int), positions=d["positions"][0].astype(np.float64))
    e, _ = label(workdir, atoms, spec["charge"], spec["uhf"])
    shutil.rmtree(workdir, ignore_errors=True)
    return abs(e - float(d["energy"][0])) < tol_ev


def optimize(workdir, atoms, charge, uhf):
    run_xtb(workdir, atoms, ["--opt"], charge, uhf)
    return read(os.path.join(workdir, "xtbopt.xyz"))


def md_frames(workdir, atoms, charge, uhf, temperature, restart=None):
    """Positions dumped by one xTB NVT run (Berendsen-type thermostat, real H mass, no SHAKE). `restart`: the text
    of an xtb `mdrestart` file (start positions and velocities, see md_restart_text); without it xtb draws the start
    velocities itself, seeded from the clock. The first frame dumped is the start geometry."""
    inp = (f"$md\n   temp={temperature}\n   time={MD_TIME_PS}\n   dump={MD_DUMP_FS}\n   step={MD_STEP_FS}\n"
           f"   hmass=1\n   shake=0\n   nvt=true\n" + ("   restart=true\n" if restart is not None else "") + "$end\n")
    run_xtb(workdir, atoms, ["--md"], charge, uhf, inp=inp,
            files=None if restart is None else {"mdrestart": restart})
    return [a.get_positions() for a in read(os.path.join(workdir, "xtb.trj"), index=":", format="xyz")]


def displaced_frames(atoms, rng, n):
    """Random Gaussian displacements of all atoms around the minimum, sigma 0.01-0.06 Å per frame (thermal bond
    fluctuations are ~0.05 Å; up to 0.12 Å put aspirin frames 6 eV above the minimum)."""
    pos = atoms.get_positions()
    return [pos + rng.normal(scale=rng.uniform(0.01, 0.06), size=pos.shape) for _ in range(n)]


def label_frames(workdir, template, charge, uhf, frames):
    """Teacher labels of each frame (positions as given, on `template`'s atoms): (kept indices, energies, forces,
    dropped count). A frame xtb's SCF fails on (a distorted geometry) or with a force above MAX_FORCE is dropped;
    the molecule's other frames are kept."""
    kept, energy, forces, dropped = [], [], [], 0
    frame = template.copy()
    for i, p in enumerate(frames):
        frame.set_positions(np.asarray(p, np.float64))
        try:
            e, f = label(workdir, frame, charge, uhf)
        except RuntimeError:
            dropped += 1
            continue
        if np.abs(f).max() > MAX_FORCE:
            dropped += 1
            continue
        kept.append(i)
        energy.append(e)
        forces.append(f)
    return kept, energy, forces, dropped


def md_restart_text(atoms, temperature, rng):
    """xtb's `mdrestart` (positions in Bohr, velocities in atomic units, format 6D22.14 per atom) for a start at
    `atoms` with velocities drawn from the Maxwell-Boltzmann distribution at `temperature` (H at 1 amu, as with
    `hmass=1`), centre-of-mass velocity removed. xtb reads it with `$md restart=true`."""
    masses = atoms.get_masses()
    masses[atoms.numbers == 1] = 1.0
    m_au = masses * (units._amu / units._me)
    kt_hartree = units.kB * temperature / units.Hartree
    v = rng.normal(size=(len(atoms), 3)) * np.sqrt(kt_hartree / m_au)[:, None]
    v -= (m_au[:, None] * v).sum(0) / m_au.sum()
    x = atoms.get_positions() / BOHR_TO_A
    lines = [" -1.0"] + ["".join(f"{t:22.14E}" for t in (*xi, *vi)) for xi, vi in zip(x, v)]
    return "\n".join(lines) + "\n"


def extra_seed(mol_id, run):
    return int(hashlib.sha256(f"{mol_id}/extra-md/{run}".encode()).hexdigest()[:8], 16)


def extra_temperature(spec, run):
    return 300.0 if spec["source"] == "s22" else EXTRA_TEMPERATURES[run % len(EXTRA_TEMPERATURES)]


def extra_runs_done(meta):
    return int(meta.get("extra_md_runs", 0))


def extra_md_run(spec, path, run, workroot):
    """Extra MD run `run` (0, 1, ...) of a trained molecule, appended to its npz as split 'train'. Starts at the
    stored minimum with seeded Maxwell-Boltzmann velocities (extra_seed, extra_temperature); the first dumped frame
    (the minimum itself, already the molecule's first MD frame) is left out. Each frame is labelled at the float32
    positions that are stored, by label(); failures and frames above MAX_FORCE are dropped. An MD run xtb fails
    on is recorded with its error and no frames (it would fail again). The npz is rewritten once, atomically."""
    if spec["split"] == "heldout":
        raise ValueError(f"{spec['id']} is held out: no extra frames")
    d = load_frames(path)
    meta = d["meta"]
    if extra_runs_done(meta) != run:
        raise ValueError(f"{spec['id']}: {extra_runs_done(meta)} extra runs done, asked for run {run}")
    t0 = time.time()
    workdir = tempfile.mkdtemp(prefix=f"{spec['id']}_extra{run}_", dir=workroot)
    charge, uhf = spec["charge"], spec["uhf"]
    minimum = Atoms(numbers=d["numbers"].astype(int), positions=np.asarray(meta["minimum"], np.float64))
    temperature, seed = extra_temperature(spec, run), extra_seed(spec["id"], run)
    entry = dict(run=run, temperature=temperature, seed=seed)
    try:
        restart = md_restart_text(minimum, temperature, np.random.default_rng(seed))
        md = md_frames(workdir, minimum, charge, uhf, temperature, restart=restart)[1:]
    except RuntimeError as e:
        md = []
        entry["error"] = str(e)[-400:]
    t_md = time.time() - t0
    md32 = [np.asarray(p, np.float32) for p in md]   # labelled where they are stored
    kept, energy, forces, dropped = label_frames(workdir, minimum, charge, uhf, md32)
    positions = [md32[i] for i in kept]
    k = len(energy)
    entry.update(n_frames=k, dropped=dropped, seconds=dict(md=round(t_md, 1), label=round(time.time() - t0 - t_md, 1)))
    n_atoms = len(minimum)
    new = dict(positions=np.asarray(positions, np.float32).reshape(k, n_atoms, 3),
               forces=np.asarray(forces, np.float32).reshape(k, n_atoms, 3),
               energy=np.asarray(energy, np.float64), cell=np.zeros((k, 3, 3)))
    arrays = {}
    for key, value in d.items():
        if key == "meta":
            continue
        arrays[key] = np.concatenate([value, new[key].astype(value.dtype)]) if key in new else value
    meta.update(n_frames=int(len(arrays["energy"])), frame_source=meta["frame_source"] + [f"md_extra{run}"] * k,
                frame_split=meta["frame_split"] + ["train"] * k, extra_md_runs=run + 1,
                extra_md=meta.get("extra_md", []) + [entry])
    tmp = path + ".tmp.npz"
    np.savez_compressed(tmp, **arrays, meta=np.array(json.dumps(meta)))
    os.replace(tmp, path)
    shutil.rmtree(workdir, ignore_errors=True)
    return entry


def md_split(i, n):
    """Split of MD frame i of n for a trained molecule: by time, so test frames follow the training ones."""
    if i < int(0.7 * n):
        return "train"
    if i < int(0.8 * n):
        return "val"
    return "test"


def generate(spec, out_path, workroot):
    t0 = time.time()
    workdir = tempfile.mkdtemp(prefix=spec["id"] + "_", dir=workroot)
    rng = np.random.default_rng(seed_of(spec["id"]))
    atoms = build_atoms(spec)
    charge, uhf = spec["charge"], spec["uhf"]
    minimum = optimize(workdir, atoms, charge, uhf)
    t_opt = time.time() - t0
    md = md_frames(workdir, minimum, charge, uhf, spec["temperature"])
    t_md = time.time() - t0 - t_opt
    configs = [(p, "md", md_split(i, len(md))) for i, p in enumerate(md)]
    configs += [(p, "displaced", "train") for p in displaced_frames(minimum, rng, N_DISPLACED)]
    if spec["split"] == "heldout":
        configs = [(p, src, "test_mol") for p, src, _ in configs]
    kept, energy, forces, dropped = label_frames(workdir, minimum, charge, uhf, [p for p, _, _ in configs])
    positions = [configs[i][0] for i in kept]
    sources = [configs[i][1] for i in kept]
    splits = [configs[i][2] for i in kept]
    t_label = time.time() - t0 - t_opt - t_md
    n = len(energy)
    meta = dict(spec, formula=minimum.get_chemical_formula(), n_frames=n, dropped=dropped,
                frame_source=sources, frame_split=splits, minimum=minimum.get_positions().tolist(),
                teacher="GFN2-xTB (xtb 6.5.1)", seconds=dict(opt=round(t_opt, 1), md=round(t_md, 1),
                                                            label=round(t_label, 1)))
    tmp = out_path + ".tmp.npz"
    np.savez_compressed(tmp, numbers=minimum.numbers.astype(np.int16), positions=np.asarray(positions, np.float32),
                        forces=np.asarray(forces, np.float32), energy=np.asarray(energy, np.float64),
                        cell=np.zeros((n, 3, 3)), pbc=np.zeros(3, bool), meta=np.array(json.dumps(meta)))
    os.replace(tmp, out_path)
    shutil.rmtree(workdir, ignore_errors=True)
    return meta


def write_index(specs):
    entries = []
    for s in specs:
        path = os.path.join(ORG_DIR, f"{s['id']}.npz")
        if not os.path.exists(path):
            continue
        m = load_frames(path)["meta"]
        entries.append(dict(id=s["id"], file=f"{s['id']}.npz", split=s["split"], charge=s["charge"],
                            spin=s["spin"], formula=m["formula"], n_frames=m["n_frames"],
                            extra_md_runs=extra_runs_done(m)))
    with open(os.path.join(ORG_DIR, "index.json"), "w") as f:
        json.dump({"teacher": "GFN2-xTB (xtb 6.5.1)", "units": "Å, eV, eV/Å", "molecules": entries}, f, indent=1)
    return entries


def pack(specs, path=PACK):
    """All finished molecules in one compressed npz (keys '<id>/<array>'), small enough to commit."""
    arrays = {}
    for s in specs:
        src = os.path.join(ORG_DIR, f"{s['id']}.npz")
        if os.path.exists(src):
            d = np.load(src)
            for k in d.files:
                arrays[f"{s['id']}/{k}"] = d[k]
    tmp = path + ".tmp.npz"
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, path)
    return os.path.getsize(path)


def unpack(path=PACK):
    """Restore the molecules of the pack that out/ lacks, or has with fewer extra MD runs (--extra-md) than the
    pack; returns their ids."""
    if not os.path.exists(path):
        return []
    d = np.load(path)
    by_mol = {}
    for k in d.files:
        mol_id, key = k.split("/", 1)
        by_mol.setdefault(mol_id, {})[key] = d[k]
    restored = []
    os.makedirs(ORG_DIR, exist_ok=True)
    for mol_id, arrays in by_mol.items():
        out = os.path.join(ORG_DIR, f"{mol_id}.npz")
        pack_runs = extra_runs_done(json.loads(str(arrays["meta"]))) if "meta" in arrays else 0
        if not os.path.exists(out) or pack_runs > extra_runs_done(load_frames(out)["meta"]):
            np.savez_compressed(out + ".tmp.npz", **arrays)
            os.replace(out + ".tmp.npz", out)
            restored.append(mol_id)
    return restored


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--list", action="store_true", help="print the plan and exit")
    ap.add_argument("--only", help="comma-separated molecule ids")
    ap.add_argument("--pack", action="store_true", help="write training/data/organics-xtb.npz from out/ and exit")
    ap.add_argument("--unpack", action="store_true",
                    help="restore out/organics from the committed pack, write index.json and exit (no xtb)")
    ap.add_argument("--time-limit-min", type=float, default=0.0,
                    help="stop starting new molecules (and new --extra-md runs) after this")
    ap.add_argument("--extra-md", type=int, default=0, metavar="K",
                    help="then make sure every trained molecule has K extra MD runs (split train; resumable, one "
                         "npz rewrite per run; held-out molecules are left alone)")
    ap.add_argument("--relabel", action="store_true",
                    help="check every stored molecule's first frame against the teacher and label the stored "
                         "positions again where it differs (resumable), then exit")
    args = ap.parse_args()
    specs = molecule_specs()
    if args.list:
        for s in specs:
            print(f"{s['id']:34s} q={s['charge']:+d} mult={s['spin']} T={s['temperature']:.0f} K {s['split']}")
        print(f"{len(specs)} molecules, {sum(s['split'] == 'heldout' for s in specs)} held out")
        return
    os.makedirs(ORG_DIR, exist_ok=True)
    if args.pack:
        print(f"{PACK}: {pack(specs) / 1e6:.2f} MB")
        return
    restored = unpack()
    if restored:
        print(f"restored {len(restored)} molecules from {PACK}", flush=True)
    if args.unpack:
        entries = write_index(specs)
        print(f"index: {len(entries)} molecules, {sum(e['n_frames'] for e in entries)} frames", flush=True)
        return
    if args.relabel:
        workroot = tempfile.mkdtemp(prefix="organics_relabel_")
        for s in specs:
            out = os.path.join(ORG_DIR, f"{s['id']}.npz")
            if not os.path.exists(out) or label_is_current(s, out, workroot):
                continue
            t0 = time.time()
            kept, dropped = relabel(s, out, workroot)
            print(f"{s['id']}: relabelled {kept} frames (dropped {dropped}) in {time.time() - t0:.0f} s", flush=True)
        shutil.rmtree(workroot, ignore_errors=True)
        entries = write_index(specs)
        print(f"index: {len(entries)} molecules, {sum(e['n_frames'] for e in entries)} frames", flush=True)
        return
    if args.only:
        wanted = set(args.only.split(","))
        unknown = wanted - {s["id"] for s in specs}
        if unknown:
            raise SystemExit(f"--only: unknown molecule ids {sorted(unknown)} (see --list)")
        specs_run = [s for s in specs if s["id"] in wanted]
    else:
        specs_run = specs
    workroot = tempfile.mkdtemp(prefix="organics_")
    t_start, n_done, n_configs = time.time(), 0, 0

    def out_of_time():
        return args.time_limit_min and time.time() - t_start > 60 * args.time_limit_min

    stopped = False
    for s in specs_run:
        out = os.path.join(ORG_DIR, f"{s['id']}.npz")
        if os.path.exists(out):
            continue
        if out_of_time():
            stopped = True
            break
        try:
            m = generate(s, out, workroot)
        except RuntimeError as e:
            print(f"{s['id']}: FAILED: {str(e)[:400]}", flush=True)
            continue
        n_done += 1
        n_configs += m["n_frames"]
        rate = n_configs / max(1e-9, (time.time() - t_start) / 3600)
        print(f"{s['id']}: {m['formula']} {m['n_frames']} frames (dropped {m['dropped']}) {m['seconds']} "
              f"[{n_done} molecules, {n_configs} configs, {rate:.0f} configs/hour]", flush=True)
    # --extra-md: after the molecules themselves, the missing extra runs, molecule by molecule
    for s in specs_run if args.extra_md > 0 and not stopped else []:
        out = os.path.join(ORG_DIR, f"{s['id']}.npz")
        if s["split"] == "heldout" or not os.path.exists(out):
            continue  # held out, or its generation failed above
        for run in range(extra_runs_done(load_frames(out)["meta"]), args.extra_md):
            if out_of_time():
                stopped = True
                break
            e = extra_md_run(s, out, run, workroot)
            n_configs += e["n_frames"]
            rate = n_configs / max(1e-9, (time.time() - t_start) / 3600)
            print(f"{s['id']}: extra MD run {run} at {e['temperature']:.0f} K: {e['n_frames']} frames "
                  f"(dropped {e['dropped']}) {e['seconds']}" + (f" FAILED: {e['error'][:300]}" if "error" in e else "")
                  + f" [{n_configs} configs, {rate:.0f} configs/hour]", flush=True)
        if stopped:
            break
    if stopped:
        print("time limit reached; run the same command to continue", flush=True)
    shutil.rmtree(workroot, ignore_errors=True)
    entries = write_index(specs)
    print(f"index: {len(entries)} molecules, {sum(e['n_frames'] for e in entries)} frames", flush=True)


if __name__ == "__main__":
    main()
