"""Active learning for the water model: run MD with the model, label where it went with the teacher.

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 training/active_learning.py --model public/models/water-spcfw-small

Why: a model trained on teacher trajectories only has never seen the configurations its own errors lead to. The
first shipped water model drifted in a 300 K NVT run into configurations it scores ~40 meV/atom too low (E_pot
−28 → −36 eV in 3 ps), then broke molecules apart. Labelling such frames with the teacher and fine-tuning on
them removes those false minima (train.py --preset water-small-al).

What went wrong there: the model drifts towards stretched O–H bonds (and then hands protons to other oxygens),
which the teacher never samples (its harmonic bonds fluctuate by ~0.04 Å) and punishes with forces of 10–50
eV/Å. So besides the model's own trajectories there are "rattled" teacher frames: a few H atoms per frame moved
0.1–0.6 Å in random directions, which spell out the walls the model has to learn.

1. sample: for "md" jobs, Langevin MD (PyTorch float32, BAOAB 0.5 fs, 0.01/fs) with the model from the last
   frame of a teacher 64-molecule trajectory, a frame every --every steps, for --ps or until a molecule breaks
   (an O–H distance above 1.5 Å) and --after more frames; "npt" jobs add the Monte Carlo barostat at 1 bar
   (one attempt every 25 steps, as validate_water.py), so the box follows the model's own density and each
   frame keeps its cell; for "rattle" jobs, teacher frames with displaced H; for "eos" jobs, teacher frames
   compressed or expanded (box and molecule positions, molecules kept rigid) to densities around the teacher's,
   so that the teacher's stress spells out its equation of state.
   Samples (positions only) go to training/data/out/water_al/samples/<id>.npz and are reused by later runs;
2. label: a LAMMPS rerun with the teacher's periodic settings (those of data/make_water.py): energy, forces and
   the virial stress;
3. write training/data/out/water_al/<id>.npz and index.json. Frames whose teacher forces exceed --max-force
   are dropped (bonds stretched far beyond anything MD at these temperatures should visit).
Deterministic per seed; existing samples and labelled files are reused, so a rerun resumes.
"""
import argparse
import json
import os
import sys
import tempfile
import time
from multiprocessing import Pool

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "data"))
from lammps_util import KCAL_PER_MOL_TO_EV, OUT_ROOT, read_dump, run_lammps, save_frames, virial_stress  # noqa: E402
from make_water import PERIODIC_SETUP, VIRIAL_COMPUTE, VIRIAL_THERMO, WATER_DIR, write_data  # noqa: E402

AL_DIR = os.path.join(OUT_ROOT, "water_al")
SAMPLES_DIR = os.path.join(AL_DIR, "samples")
# (job id, teacher trajectory to start from, temperature K (md), largest H displacement Å (rattle) or largest
# relative density change (eos), split[,
# ensemble of md jobs: "nvt" unless given])
JOBS = [
    ("al1_T300_rho1.0", "w64_T300_rho1.0_r0", 300.0, "train"),
    ("al1_T400_rho1.1", "w64_T330_rho1.1_r0", 400.0, "train"),
    ("rattle_rho0.9", "w64_T300_rho0.9_r0", 0.6, "train"),
    ("rattle_rho1.0", "w64_T270_rho1.0_r0", 0.6, "train"),
    ("rattle_rho1.1", "w64_T370_rho1.1_r0", 0.6, "train"),
    ("shift_rho1.0", "w64_T300_rho1.0_r0", 1.0, "train"),
    ("shift_rho1.1", "w64_T330_rho1.1_r0", 1.0, "train"),
    # second round (issue 14): 300 K MD of the smooth model, which over-binds its own liquid configurations by
    # 11-13 meV/atom (teacher relabelling) and so overestimates ΔH_vap; one start at the teacher's NPT density
    ("al2_T300_rho1.0", "w64_T300_rho1.0_r1", 300.0, "train"),
    ("al2_T300_npt", "w64_npt_T300_r0", 300.0, "train"),  # NVT from the teacher's NPT state, despite the id
    # third round (issue 14): the second-round model is right about the liquid's energy but its NPT density is
    # 1.02 g/cm³ (teacher 0.978): NPT of that model, so that the teacher's stress on the denser boxes it reaches
    # is in the training set
    ("al3_T300_npt_r0", "w64_npt_T300_r0", 300.0, "train", "npt"),
    ("al3_T300_npt_r1", "w64_T300_rho1.0_r1", 300.0, "train", "npt"),
    # the al2 model's NPT went to 1.02 g/cm³, al3's (trained on the al3 frames) to 0.90: their equations of state
    # are off far from 1.0 g/cm³, where few frames with a stress exist. Teacher frames from 0.88 to 1.12 g/cm³.
    ("eos_T300", "w64_T300_rho1.0_r0", 0.12, "train"),
]
NPT_PRESSURE_BAR = 1.0
BAROSTAT_INTERVAL = 25  # steps between Monte Carlo volume moves (validate_water.py's default)


def job_ensemble(job):
    return job[4] if len(job) > 4 else "nvt"


def rattle(job, seed, n_frames=150, moved=6):
    """Teacher frames, every atom moved by N(0, 0.02 Å), and either `moved` random H atoms ("rattle" jobs) or
    `moved` // 2 whole molecules ("shift" jobs: close O–O contacts, the teacher's LJ wall) displaced by U(0.1, max) Å
    in random directions."""
    from datasets import load_frames
    job_id, start, max_shift, _ = job
    d = load_frames(os.path.join(WATER_DIR, start + ".npz"))
    rng = np.random.default_rng(seed)
    groups = ([[h] for h in np.flatnonzero(d["numbers"] == 1)] if job_id.startswith("rattle")
              else [[3 * m, 3 * m + 1, 3 * m + 2] for m in range(len(d["numbers"]) // 3)])
    count = moved if job_id.startswith("rattle") else moved // 2
    frames = []
    for k in range(n_frames):
        x = d["positions"][rng.integers(len(d["positions"]))].astype(np.float64)
        x = x + rng.normal(scale=0.02, size=x.shape)
        for g in rng.choice(len(groups), count, replace=False):
            u = rng.normal(size=3)
            x[groups[g]] += u / np.linalg.norm(u) * rng.uniform(0.1, max_shift)
        frames.append(x)
    return d["numbers"], np.array(frames), d["cell"][0], None


def scale_density(job, seed, n_frames=150):
    """Teacher frames with the box and every molecule's position scaled (each molecule moved rigidly with its
    oxygen) to a density factor drawn from U(1 − d, 1 + d), d the job's third field; a cell per frame."""
    from datasets import load_frames
    job_id, start, max_change, _ = job
    d = load_frames(os.path.join(WATER_DIR, start + ".npz"))
    rng = np.random.default_rng(seed)
    frames, cells = [], []
    for _ in range(n_frames):
        k = rng.integers(len(d["positions"]))
        x = d["positions"][k].astype(np.float64).reshape(-1, 3, 3)
        cell = d["cell"][k].astype(np.float64)
        # O–H vectors by minimum image: stored frames may have a molecule's atoms in different periodic images
        oh = x[:, 1:] - x[:, :1]
        oh -= np.round(oh @ np.linalg.inv(cell)) @ cell
        length_factor = rng.uniform(1 - max_change, 1 + max_change) ** (-1 / 3)
        o = length_factor * x[:, :1]
        frames.append(np.concatenate([o, o + oh], axis=1).reshape(-1, 3))
        cells.append(cell * length_factor)
    return d["numbers"], np.array(frames), np.array(cells), None


def partial_path(job_id):
    """Where sample() keeps a job's unfinished model MD (removed once the samples are written)."""
    return os.path.join(SAMPLES_DIR, job_id + ".partial.npz")


def sample(job, model_dir, ps, every, after, seed):
    """Model MD from the last frame of a teacher trajectory; returns the numbers, frames (positions), the cell of
    each frame and the log."""
    import torch
    from ase import units
    from model_md import ModelMD, load_run, save_run
    from evaluate import load_for_eval
    from datasets import load_frames

    torch.set_num_threads(1)
    job_id, start, temperature = job[:3]
    npt = job_ensemble(job) == "npt"
    model, _ = load_for_eval(model_dir=model_dir)
    d = load_frames(os.path.join(WATER_DIR, start + ".npz"))
    md = ModelMD(model, d["numbers"].astype(np.int64), d["positions"][-1].astype(np.float64), d["cell"][-1],
                 seed, temperature)
    dt, gamma = 0.5 * units.fs, 0.01 / units.fs
    frames, cells, log, broken_at, done = [], [], [], None, 0
    # model MD of one job takes hours here: every 10 saved frames the run so far (with the MD state and its RNG) is
    # written beside the samples, and a rerun continues from it
    partial = partial_path(job_id)
    os.makedirs(SAMPLES_DIR, exist_ok=True)
    if os.path.exists(partial):
        ck = load_run(partial, md)
        done, frames, log = int(ck["step"]), list(ck["frames"]), json.loads(str(ck["log"]))
        cells = list(ck["cells"]) if "cells" in ck else [md.cell.copy() for _ in frames]
        broken_at = None if int(ck["broken_at"]) < 0 else int(ck["broken_at"])
        print(json.dumps({"job": job_id, "resumed_at_step": done, "frames": len(frames)}), flush=True)
    t0 = time.time()
    for step in range(done + 1, int(round(ps * 2000)) + 1):
        md.baoab(dt, gamma)
        if npt and step % BAROSTAT_INTERVAL == 0:
            md.barostat(NPT_PRESSURE_BAR * units.bar)
        if step % every:
            continue
        oh = md.oh_lengths()
        frames.append(md.pos.copy())
        cells.append(md.cell.copy())
        log.append({"step": step, "E_pot_eV": md.e, "T_K": md.temperature(), "OH_max_A": float(oh.max()),
                    "density_g_cm3": md.density()})
        if broken_at is None and oh.max() > 1.5:
            broken_at = len(frames)
        if broken_at is not None and len(frames) >= broken_at + after:
            break
        if len(frames) % 10 == 0:
            save_run(partial, md, step=step, frames=np.array(frames), cells=np.array(cells), log=np.array(json.dumps(log)),
                     broken_at=-1 if broken_at is None else broken_at)
    print(json.dumps({"job": job_id, "frames": len(frames), "broken_at_frame": broken_at,
                      "E_pot_first_last": [log[0]["E_pot_eV"], log[-1]["E_pot_eV"]],
                      "density_first_last": [log[0]["density_g_cm3"], log[-1]["density_g_cm3"]],
                      "wall_s": round(time.time() - t0)}), flush=True)
    return d["numbers"], np.array(frames), np.array(cells), log


def rerun_script():
    return f"""{PERIODIC_SETUP}{VIRIAL_COMPUTE}thermo_style custom {VIRIAL_THERMO}
thermo_modify format float %.12g
thermo 1
dump d all custom 1 dump.txt id type x y z fx fy fz
dump_modify d sort id format float %.12g
rerun traj.txt dump x y z
"""


def rerun_thermo(log_path):
    """{step: [pe, pxx, pyy, pzz, pxy, pxz, pyz]} of the rerun's thermo table (virial pressure in atm). Broken
    molecules make LAMMPS print image-flag warnings between rows, which lammps_util.read_thermo takes for the end
    of the table."""
    out, in_table, width = {}, False, len(VIRIAL_THERMO.split())
    with open(log_path) as f:
        for line in f:
            parts = line.split()
            if parts[:2] == ["Step", "PotEng"]:
                out, in_table = {}, True
            elif in_table and parts and parts[0] == "Loop":
                in_table = False
            elif in_table and len(parts) == width and parts[0].isdigit():
                out[int(parts[0])] = [float(p) for p in parts[1:]]
    return out


def label(numbers, frames, cell, workdir):
    """Teacher energies (eV), forces (eV/Å) and stress (eV/Å³, ASE sign) of each frame (LAMMPS rerun), positions
    wrapped into the box."""
    L = np.diag(cell)
    if not np.allclose(cell, np.diag(L)):
        raise ValueError("the teacher boxes are orthorhombic")
    wrapped = frames - np.floor(frames / L) * L
    write_data(os.path.join(workdir, "data.lmp"), list(wrapped[0].reshape(-1, 3, 3)), [(0.0, x) for x in L])
    types = np.where(np.asarray(numbers) == 8, 1, 2)
    with open(os.path.join(workdir, "traj.txt"), "w") as f:
        for k, pos in enumerate(wrapped):
            f.write(f"ITEM: TIMESTEP\n{k + 1}\nITEM: NUMBER OF ATOMS\n{len(pos)}\nITEM: BOX BOUNDS pp pp pp\n")
            f.write("".join(f"0 {x:.10f}\n" for x in L))
            f.write("ITEM: ATOMS id type x y z\n")
            f.write("".join(f"{i + 1} {types[i]} {p[0]:.8f} {p[1]:.8f} {p[2]:.8f}\n" for i, p in enumerate(pos)))
    run_lammps(rerun_script(), workdir)
    thermo = rerun_thermo(os.path.join(workdir, "log.lammps"))
    dump = read_dump(os.path.join(workdir, "dump.txt"))
    steps = [fr[0] for fr in dump]
    if steps != list(range(1, len(frames) + 1)) or sorted(thermo) != steps:
        raise RuntimeError(f"rerun visited steps {steps[:3]}... / {sorted(thermo)[:3]}..., expected 1..{len(frames)}")
    table = np.array([thermo[k] for k in steps])
    energy = table[:, 0] * KCAL_PER_MOL_TO_EV
    stress = virial_stress(table[:, 1:].T)
    pos = np.stack([np.stack([fr[2]["x"], fr[2]["y"], fr[2]["z"]], 1) for fr in dump])
    frc = np.stack([np.stack([fr[2]["fx"], fr[2]["fy"], fr[2]["fz"]], 1) for fr in dump]) * KCAL_PER_MOL_TO_EV
    return pos, frc, energy, stress


def label_cells(numbers, frames, cells, workdir):
    """label() for frames that each have their own cell (NPT samples): one LAMMPS rerun per run of consecutive
    frames with the same cell, since a rerun keeps the box of its data file."""
    starts = [0] + [k for k in range(1, len(frames)) if not np.array_equal(cells[k], cells[k - 1])] + [len(frames)]
    parts = []
    for a, b in zip(starts[:-1], starts[1:]):
        sub = os.path.join(workdir, f"frames_{a}")
        os.makedirs(sub)
        parts.append(label(numbers, frames[a:b], cells[a], sub))
    return tuple(np.concatenate(x) for x in zip(*parts))


def run_job(args_job):
    job, model_dir, ps, every, after, seed, max_force = args_job
    job_id, start, temperature, split = job[:4]
    path = os.path.join(AL_DIR, job_id + ".npz")
    if os.path.exists(path):
        return job_id
    sample_path = os.path.join(SAMPLES_DIR, job_id + ".npz")
    if os.path.exists(sample_path):
        sd = np.load(sample_path)
        numbers, frames, cell = sd["numbers"], sd["positions"], sd["cell"]
        log = json.loads(str(sd["log"]))
    else:
        if job_id.startswith(("rattle", "shift")):
            numbers, frames, cell, log = rattle(job, seed)
        elif job_id.startswith("eos"):
            numbers, frames, cell, log = scale_density(job, seed)
        else:
            numbers, frames, cell, log = sample(job, model_dir, ps, every, after, seed)
        os.makedirs(SAMPLES_DIR, exist_ok=True)
        np.savez_compressed(sample_path, numbers=numbers, positions=frames, cell=cell, log=np.array(json.dumps(log)))
        if os.path.exists(partial_path(job_id)):
            os.remove(partial_path(job_id))
    # samples of the first rounds (and rattled frames) have one cell for all frames, NPT samples one per frame
    cells = cell if cell.ndim == 3 else np.repeat(cell[None], len(frames), 0)
    with tempfile.TemporaryDirectory(prefix="al_lmp_") as work:
        pos, frc, energy, stress = label_cells(numbers, frames, cells, work)
    keep = np.abs(frc).max(axis=(1, 2)) < max_force
    meta = {"id": job_id, "start": start, "temperature_or_shift": temperature, "split": split,
            "model": None if log is None else model_dir, "ensemble": None if log is None else job_ensemble(job),
            "seed": seed, "every_steps": every,
            "frames_sampled": len(frames), "frames_kept": int(keep.sum()), "max_force_eV_A": max_force,
            "model_energy_eV": None if log is None else [r["E_pot_eV"] for r in log],
            "teacher": "SPC/Fw (LAMMPS rerun)", "long_range": "pppm 1e-5, LJ cut 6 A + tail"}
    save_frames(path, numbers, pos[keep], frc[keep], energy[keep], cells[keep],
                [True, True, True], meta, stress=stress[keep])
    summary = {"job": job_id, "kept": int(keep.sum()), "of": len(frames),
               "teacher_max_force_eV_A_quantiles": np.quantile(np.abs(frc).max(axis=(1, 2)), [0, 0.5, 0.9, 1]).round(1).tolist()}
    if log is not None and keep.any():
        e_model = np.array([r["E_pot_eV"] for r in log])[keep]
        summary["model_minus_teacher_meV_atom_first_last"] = [
            float((e_model[0] - energy[keep][0]) / len(numbers) * 1000), float((e_model[-1] - energy[keep][-1]) / len(numbers) * 1000)]
    print(json.dumps(summary), flush=True)
    return job_id


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=os.path.join(os.path.dirname(HERE), "public", "models", "water-spcfw-small"))
    ap.add_argument("--ps", type=float, default=3.0, help="longest model trajectory per job, ps")
    ap.add_argument("--every", type=int, default=20, help="steps between saved frames")
    ap.add_argument("--after", type=int, default=10, help="frames kept after a molecule broke")
    ap.add_argument("--max-force", type=float, default=60.0, help="drop frames with a teacher force above this, eV/Å")
    ap.add_argument("--jobs", type=int, default=2, help="processes (one torch thread each)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--only", default="", help="run only the jobs whose id starts with this (the index lists every "
                                               "job labelled so far)")
    args = ap.parse_args()
    os.makedirs(AL_DIR, exist_ok=True)
    t0 = time.time()
    # the seed is tied to the job's place in JOBS, so --only runs the same jobs as a full run
    work = [(job, args.model, args.ps, args.every, args.after, args.seed + i, args.max_force) for i, job in enumerate(JOBS)
            if job[0].startswith(args.only)]
    with Pool(args.jobs) as pool:
        pool.map(run_job, work)
    index = {"teacher": "SPC/Fw water, LAMMPS rerun of model-MD frames", "trajectories": []}
    for job in JOBS:
        path = os.path.join(AL_DIR, job[0] + ".npz")
        if os.path.exists(path):
            n = len(np.load(path)["energy"])
            index["trajectories"].append({"id": job[0], "file": job[0] + ".npz", "split": job[3], "n_frames": n,
                                          "n_atoms": 192, "kind": "periodic"})
    with open(os.path.join(AL_DIR, "index.json"), "w") as f:
        json.dump(index, f, indent=1)
    print(f"done in {time.time() - t0:.0f} s: {os.path.join(AL_DIR, 'index.json')}")


if __name__ == "__main__":
    main()
