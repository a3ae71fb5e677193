"""Teacher data: small organic molecules (H, C, N, O), neutral, charged and radical, labelled by GFN2-xTB.

One command:  /usr/bin/python3 training/data/make_organics.py              (all molecules, resumable)
              /usr/bin/python3 training/data/make_organics.py --list       (the plan: ids, charge, spin, split)
              /usr/bin/python3 training/data/make_organics.py --only aspirin,caffeine
              /usr/bin/python3 training/data/make_organics.py --pack       (write the committed compact copy)
              /usr/bin/python3 training/data/make_organics.py --unpack     (restore out/ from it, no xtb)

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
does not recompute them.
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
ORG_DIR = os.path.join(OUT_ROOT, "organics")
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


def run_xtb(workdir, atoms, args, charge, uhf, inp=None):
    """Run xtb on `atoms` in `workdir` (one thread); raise with the output's tail if it fails."""
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


def md_frames(workdir, atoms, charge, uhf, temperature):
    """Positions dumped by one xTB NVT run (Berendsen-type thermostat, real H mass, no SHAKE)."""
    inp = (f"$md\n   temp={temperature}\n   time={MD_TIME_PS}\n   dump={MD_DUMP_FS}\n   step={MD_STEP_FS}\n"
           f"   hmass=1\n   shake=0\n   nvt=true\n$end\n")
    run_xtb(workdir, atoms, ["--md"], charge, uhf, inp=inp)
    return [a.get_positions() for a in read(os.path.join(workdir, "xtb.trj"), index=":", format="xyz")]


def displaced_frames(atoms, rng, n):
    """Random Gaussian displacements of all atoms around the minimum, sigma 0.01-0.06 Å per frame (thermal bond
    fluctuations are ~0.05 Å; up to 0.12 Å put aspirin frames 6 eV above the minimum)."""
    pos = atoms.get_positions()
    return [pos + rng.normal(scale=rng.uniform(0.01, 0.06), size=pos.shape) for _ in range(n)]


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
    positions, forces, energy, sources, splits = [], [], [], [], []
    dropped = 0
    for p, src, split in configs:
        frame = minimum.copy()
        frame.set_positions(p)
        try:
            e, f = label(workdir, frame, charge, uhf)
        except RuntimeError:
            dropped += 1  # SCF failure on a distorted frame: skip it, keep the molecule
            continue
        if np.abs(f).max() > MAX_FORCE:
            dropped += 1
            continue
        positions.append(p)
        forces.append(f)
        energy.append(e)
        sources.append(src)
        splits.append(split)
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
                            spin=s["spin"], formula=m["formula"], n_frames=m["n_frames"]))
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
    """Restore the molecules of the pack that out/ lacks; returns their ids."""
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
        if not os.path.exists(out):
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
    ap.add_argument("--time-limit-min", type=float, default=0.0, help="stop starting new molecules after this")
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
    for s in specs_run:
        out = os.path.join(ORG_DIR, f"{s['id']}.npz")
        if os.path.exists(out):
            continue
        if args.time_limit_min and time.time() - t_start > 60 * args.time_limit_min:
            print("time limit reached; run the same command to continue", flush=True)
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
    shutil.rmtree(workroot, ignore_errors=True)
    entries = write_index(specs)
    print(f"index: {len(entries)} molecules, {sum(e['n_frames'] for e in entries)} frames", flush=True)


if __name__ == "__main__":
    main()
