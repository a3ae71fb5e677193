"""Short NVT stability check of a shipped water model (PyTorch, float32, Langevin BAOAB at 0.5 fs).

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 training/md_check.py --model public/models/water-spcfw-small --steps 400

Starts from the first frame of a held-out 64-molecule test trajectory and reports the temperature, the potential
energy, the shortest and longest O-H distance and the largest force along the way. "Stable" here means: no
molecule breaks (O-H within 0.8-1.3 Å), no atoms collapse onto each other, temperature stays near the target.
With --nve-steps, velocity Verlet NVE follows from the last NVT state, logged every step (t_ps, E_tot, E_kin, T,
E_pot, continuity residual ΔE_pot + ½(F_n + F_{n+1})·Δx) to --nve-log, and drift_report.py's summary is printed.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
from ase import Atoms, units
from ase.io import read, write

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from datasets import load_dataset  # noqa: E402
from drift_report import format_report, report  # noqa: E402
from evaluate import load_for_eval  # noqa: E402
from model_md import ModelMD, load_run, nve_step, save_run  # noqa: E402


def save_checkpoint(path, md, phase, step, log):
    """Everything a rerun needs to continue bit for bit: MD state (with the RNG), phase, step and the log so far."""
    save_run(path, md, phase=phase, step=step,
             log=json.dumps(log) if phase == "nvt" else np.array(log, dtype=np.float64))


def load_checkpoint(path, md):
    """(phase, step, log) of a checkpoint written by save_checkpoint; the MD state is restored into md."""
    ck = load_run(path, md)
    phase = str(ck["phase"])
    log = json.loads(str(ck["log"])) if phase == "nvt" else [tuple(r) for r in ck["log"]]
    return phase, int(ck["step"]), log


def run_nve(md, dt, steps, dt_fs, log_path, checkpoint=None, start_step=0, log=None):
    """Velocity Verlet from the current state; every step logged with its energy-continuity residual.
    With checkpoint, the state is saved every 200 steps and a rerun continues from start_step with its log."""
    log, t0 = list(log or []), time.time()
    for step in range(start_step + 1, steps + 1):
        log.append(nve_step(md, dt, step * dt_fs / 1000))
        if step % 200 == 0 or step == steps:
            if log_path:
                np.save(log_path, np.array(log))
            if checkpoint:
                save_checkpoint(checkpoint, md, "nve", step, log)
            # printed after the saves: a run killed once it printed step N continues from N
            print(json.dumps({"nve_step": step, "of": steps, "E_tot_eV": log[-1][1], "T_K": log[-1][3],
                              "jump_meV": log[-1][5] * 1000, "wall_s": round(time.time() - t0)}), flush=True)
    log = np.array(log)
    r = report(log[:, 0], log[:, 1], log[:, 2], len(md.pos), log[:, 5])
    print(format_report(r), flush=True)
    return dict(r, steps=steps, dt_fs=dt_fs, wall_s=round(time.time() - t0, 1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", help="shipped model directory")
    src.add_argument("--run", help="training run directory (EMA weights of its checkpoint)")
    ap.add_argument("--start", help="start structure (extXYZ, e.g. public/systems/water64_box.xyz) instead of the "
                    "first held-out 64-molecule frame (which needs the generated training data)")
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--dt-fs", type=float, default=0.5)
    ap.add_argument("--temperature", type=float, default=300.0)
    ap.add_argument("--friction-per-fs", type=float, default=0.01)
    ap.add_argument("--out", help="write the summary JSON here")
    ap.add_argument("--traj", help="write frames to this extXYZ file")
    ap.add_argument("--traj-every", type=int, default=200, help="steps between written frames")
    ap.add_argument("--nve-steps", type=int, default=0, help="velocity Verlet NVE steps after the NVT part")
    ap.add_argument("--nve-log", help="write the per-step NVE log (.npy) here")
    ap.add_argument("--checkpoint", help="save the run here every 200 steps and continue from it when it exists "
                    "(for runs longer than a session; the same arguments must be given again)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    model, _ = load_for_eval(run=args.run, model_dir=args.model)
    if args.start:
        atoms = read(args.start)
        s = {"numbers": atoms.numbers, "positions": atoms.get_positions(), "cell": atoms.cell.array}
    else:
        test = [t for t in load_dataset("water")["test"] if t.group == "w64"]
        s = test[0].structure(0)
    md = ModelMD(model, np.asarray(s["numbers"]), s["positions"], s["cell"], 0, args.temperature)
    dt, gamma = args.dt_fs * units.fs, args.friction_per_fs / units.fs
    log, frames = [], []
    phase, done = "nvt", 0
    if args.checkpoint and os.path.exists(args.checkpoint):
        phase, done, saved_log = load_checkpoint(args.checkpoint, md)
        if phase == "nvt":
            log = saved_log
        print(json.dumps({"resumed": args.checkpoint, "phase": phase, "step": done}), flush=True)
    t0 = time.time()
    for step in range(done + 1 if phase == "nvt" else args.steps + 1, args.steps + 1):
        md.baoab(dt, gamma)
        if step % 20 == 0 or step == args.steps:
            oh = md.oh_lengths()
            rec = {"step": step, "time_fs": step * args.dt_fs, "T_K": md.temperature(), "E_pot_eV": md.e,
                   "OH_min_A": float(oh.min()), "OH_max_A": float(oh.max()), "F_max_eV_A": float(np.abs(md.f).max())}
            log.append(rec)
            print(json.dumps(rec), flush=True)
            if args.traj and step % args.traj_every == 0:
                frames.append(Atoms(numbers=s["numbers"], positions=md.pos, cell=md.cell, pbc=True))
        if args.checkpoint and step % 200 == 0 and step < args.steps:
            save_checkpoint(args.checkpoint, md, "nvt", step, log)
    if args.checkpoint and phase == "nvt":
        # the NVT log goes into the NVE phase's summary below; kept beside the checkpoint
        with open(args.checkpoint + ".nvt.json", "w") as fh:
            json.dump(log, fh)
    elif args.checkpoint:
        log = json.load(open(args.checkpoint + ".nvt.json"))
    oh_ok = all(0.8 < r["OH_min_A"] and r["OH_max_A"] < 1.3 for r in log)
    summary = {"model": args.model or args.run, "steps": args.steps, "dt_fs": args.dt_fs, "simulated_fs": args.steps * args.dt_fs,
               "thermostat": f"Langevin BAOAB {args.friction_per_fs}/fs at {args.temperature} K",
               "mean_T_K_second_half": float(np.mean([r["T_K"] for r in log[len(log) // 2:]])),
               "molecules_intact": oh_ok, "wall_s": round(time.time() - t0, 1), "log": log}
    if args.nve_steps:
        resume = (done, saved_log) if phase == "nve" else (0, None)
        summary["nve"] = run_nve(md, dt, args.nve_steps, args.dt_fs, args.nve_log, args.checkpoint, *resume)
    if frames:
        write(args.traj, frames)
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(summary, fh, indent=1)
    print(json.dumps({k: v for k, v in summary.items() if k != "log"}))


if __name__ == "__main__":
    main()
