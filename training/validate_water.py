"""Water validation of a shipped model against its teacher: NPT density, heat of vaporisation, NVE drift.

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 training/validate_water.py            # default model, ~90 min here
    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 training/validate_water.py --quick    # short smoke run (minutes)

The same protocol runs twice from the same start (public/systems/water64_box.xyz, 64 molecules):
- teacher: SPC/Fw in LAMMPS with the training data's settings (LJ 6 Å + tail, PPPM 1e-5): NPT (Nosé–Hoover, 300 K,
  1 bar), then NVE from the last NPT frame. LAMMPS is cheap, so its runs are long.
- model: the PyTorch reference of the shipped weights (float32, the function the WebGPU runtime computes),
  Langevin BAOAB at 300 K with a Monte Carlo barostat that scales molecule centres (the algorithm and constants of
  src/md: a uniform volume step tuned every 10 attempts towards 25–75 % acceptance, one attempt every 25 steps),
  then velocity Verlet NVE from the last NPT state.
ΔH_vap = ⟨U_gas⟩ − ⟨U_liq⟩/N_mol + RT, with ⟨U_gas⟩ = E_min(monomer) + (3/2)kT (three classical harmonic modes;
for SPC/Fw E_min = 0, which is the teacher note's protocol) and, as a check, the mean energy of a Langevin run of
one molecule. Error bars are the standard error of block means (5 blocks).

Resumable: rerunning the same command continues an interrupted run. Each phase's result goes into --out/results.json
as it finishes, and a rerun skips the phases already there; the model's MD phases (NPT, NVE, the gas-phase Langevin
run) write a checkpoint every --checkpoint-every steps (model_{npt,nve,gas}_ck.npz: positions, velocities, cell,
RNG state, barostat step and counters, the step and the log so far), from which a rerun continues bit for bit, the
same trajectory and log as a run straight through (training/tests/test_validate_water_resume.py). A teacher
LAMMPS log that finished for the same input is reused. results.json and every checkpoint record the settings
(run lengths, seed, T, p, dt, start, the model's path and a hash of its weights); a rerun with other settings
stops with the differences named instead of mixing runs (use another --out).
"""
import argparse
import hashlib
import json
import os
import sys
import time

import numpy as np
import torch
from ase import units
from ase.io import read

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "data"))
from drift_report import BENCHMARK_PS, report  # noqa: E402
from evaluate import load_for_eval  # noqa: E402
from lammps_util import KCAL_PER_MOL_TO_EV, read_thermo, run_lammps  # noqa: E402
from make_water import PERIODIC_SETUP, WATER_MOLAR_MASS, molecule_template, write_data  # noqa: E402
from model_md import AMU_PER_A3_TO_G_CM3, ModelMD, load_run, nve_step, save_run  # noqa: E402

ROOT = os.path.dirname(HERE)
START = os.path.join(ROOT, "public", "systems", "water64_box.xyz")
BAR = units.bar  # eV/Å^3
KCAL = KCAL_PER_MOL_TO_EV  # eV per kcal/mol


def block_stats(x, n_blocks=5):
    x = np.asarray(x, dtype=np.float64)
    blocks = np.array_split(x, n_blocks)
    means = np.array([b.mean() for b in blocks])
    return float(x.mean()), float(means.std(ddof=1) / np.sqrt(n_blocks))


def drift_fit(t_ps, e_tot_eV, n_atoms):
    """Slope of a linear fit of E_tot in meV/atom/ps."""
    slope = np.polyfit(np.asarray(t_ps), np.asarray(e_tot_eV), 1)[0]
    return float(slope * 1000.0 / n_atoms)


# ---------------------------------------------------------------- settings and checkpoints

COMMON = ("model_path", "model_sha256", "start_path", "temperature", "dt_fs", "seed")
PHASE_SETTINGS = {
    "teacher": ("start_path", "temperature", "teacher_npt_ps", "teacher_nve_ps"),
    "model_gas": COMMON + ("gas_ps",),
    "model_npt": COMMON + ("pressure_bar", "friction_per_fs", "barostat_interval", "equil_ps", "npt_ps"),
}
PHASE_SETTINGS["model_nve"] = PHASE_SETTINGS["model_npt"] + ("nve_ps",)
ALL_SETTINGS = tuple(dict.fromkeys(k for keys in PHASE_SETTINGS.values() for k in keys))


def model_sha256(model):
    """Hash of the weights (a --run directory's checkpoint changes while it trains)."""
    h = hashlib.sha256()
    for name, t in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def settings_of(args, keys=ALL_SETTINGS):
    return {k: getattr(args, k) for k in keys}


class SettingsMismatch(SystemExit):
    pass


def check_settings(saved, current, where):
    diff = [f"{k}: {saved.get(k)!r} there, {current.get(k)!r} now" for k in sorted(set(saved) | set(current))
            if saved.get(k) != current.get(k)]
    if diff:
        raise SettingsMismatch(f"{where} was written with other settings ({'; '.join(diff)}); rerun with the same "
                               "arguments to continue it, or give another --out")


class Interrupted(RuntimeError):
    """Raised by a phase after the step given as interrupt_after (tests: stands in for a kill)."""


def save_checkpoint(path, md, args, phase, step, log, wall_s):
    """Everything a rerun needs to continue bit for bit: MD state (with the RNG and the barostat's step and
    counters), the step, the log so far and the settings it belongs to."""
    save_run(path, md, step=step, log=np.array(log, dtype=np.float64), wall_s=wall_s,
             settings=json.dumps(settings_of(args, PHASE_SETTINGS[phase]), sort_keys=True))


def load_checkpoint(path, md, args, phase):
    """(step, log, wall_s) of a save_checkpoint file, whose MD state is restored into md; None if there is none.
    A checkpoint of other settings is an error."""
    if not os.path.exists(path):
        return None
    with np.load(path, allow_pickle=False) as ck:
        check_settings(json.loads(str(ck["settings"])), settings_of(args, PHASE_SETTINGS[phase]), path)
    ck = load_run(path, md)
    if "counters" in ck:  # checkpoints written before ModelMD.state carried the barostat counters
        md.attempts, md.accepted, md.window_attempts, md.window_accepted = (int(c) for c in ck["counters"])
    step = int(ck["step"])
    print(json.dumps({"phase": phase, "resumed": path, "step": step}), flush=True)
    return step, [tuple(r) for r in ck["log"]], float(ck["wall_s"])


def checkpoint_due(args, step, steps):
    return step % args.checkpoint_every == 0 or step == steps


# ---------------------------------------------------------------- teacher (LAMMPS)

TEACHER_EQUIL_STEPS = 4000  # 2 ps of NPT before the recorded run


def teacher_script(T, npt_steps, nve_steps, equil_steps):
    return f"""{PERIODIC_SETUP}neighbor 2.0 bin
neigh_modify every 1 delay 0 check yes
timestep 0.5
velocity all create {T} 4242 mom yes rot yes dist gaussian
fix 1 all npt temp {T} {T} 50.0 iso 1.0 1.0 500.0
thermo_style custom step pe ke temp density
thermo_modify format float %.12g
thermo 1000
run {equil_steps}
reset_timestep 0
thermo 20
run {npt_steps}
unfix 1
reset_timestep 0
fix 2 all nve
thermo_style custom step pe ke etotal temp
thermo 10
run {nve_steps}
"""


def molecules_of(atoms):
    """Unwrapped [O, H, H] triples (the start file must list each molecule as O, H, H)."""
    pos = atoms.get_positions()
    cell = atoms.cell.array
    z = atoms.numbers
    if len(z) % 3 or not all((z[0::3] == 8) & (z[1::3] == 1) & (z[2::3] == 1)):
        raise ValueError("the start structure must list each molecule as O, H, H")
    mols = pos.reshape(-1, 3, 3).copy()
    d = mols[:, 1:] - mols[:, :1]
    d -= np.round(d @ np.linalg.inv(cell)) @ cell
    mols[:, 1:] = mols[:, :1] + d
    return mols


def finished_teacher_log(work, script, npt_steps, nve_steps):
    """The thermo tables (equilibration, NPT, NVE) of a LAMMPS log in work that ran this script to its end, else
    None (no log, another input, or a run killed before its end)."""
    log_path, in_path = os.path.join(work, "log.lammps"), os.path.join(work, "in.lmp")
    if not (os.path.exists(log_path) and os.path.exists(in_path)) or open(in_path).read() != script:
        return None
    if "Total wall time" not in open(log_path).read():  # LAMMPS's last line: a killed run lacks it
        return None
    tables = read_all_thermo(log_path)
    if [int(t["Step"][-1]) for t in tables] != [TEACHER_EQUIL_STEPS, npt_steps, nve_steps]:
        return None
    return tables


def run_teacher(args, out_dir):
    atoms = read(args.start)
    L = float(atoms.cell.array[0, 0])
    work = os.path.join(out_dir, "teacher")
    os.makedirs(work, exist_ok=True)
    npt_steps, nve_steps = (args.teacher_npt_ps * 2000, args.teacher_nve_ps * 2000)
    script = teacher_script(args.temperature, npt_steps, nve_steps, TEACHER_EQUIL_STEPS)
    seconds_path = os.path.join(work, "lammps_seconds.txt")
    data_path = os.path.join(work, "data.lmp")
    data_before = open(data_path).read() if os.path.exists(data_path) else None
    write_data(data_path, list(molecules_of(atoms)), [(0.0, L)] * 3)
    tables = finished_teacher_log(work, script, npt_steps, nve_steps) if data_before == open(data_path).read() else None
    if tables is not None and os.path.exists(seconds_path):
        seconds = float(open(seconds_path).read())
        print(json.dumps({"phase": "teacher", "reused": os.path.join(work, "log.lammps")}), flush=True)
    else:
        seconds = run_lammps(script, work)
        with open(seconds_path, "w") as f:
            f.write(f"{seconds}\n")
        tables = read_all_thermo(os.path.join(work, "log.lammps"))
    npt, nve = tables[-2], tables[-1]
    n_mol = len(atoms) // 3
    rho, rho_err = block_stats(npt["Density"])
    u_liq, u_err = block_stats(npt["PotEng"] / n_mol)  # kcal/mol per molecule
    kT = units.kB * args.temperature / KCAL
    dh = 1.5 * kT - u_liq + kT
    t_ps = nve["Step"] * 0.5e-3
    e_tot = nve["TotEng"] * KCAL
    return {
        "engine": "LAMMPS SPC/Fw (LJ 6 Å + tail, PPPM 1e-5), Nosé–Hoover NPT 50/500 fs", "lammps_seconds": round(seconds, 1),
        "npt_ps": args.teacher_npt_ps, "nve_ps": args.teacher_nve_ps,
        "T_K": float(np.mean(npt["Temp"])), "density_g_cm3": [rho, rho_err],
        "U_liq_kcal_mol": [u_liq, u_err], "U_gas_kcal_mol": 1.5 * kT, "dH_vap_kcal_mol": [dh, u_err],
        "nve_drift_meV_atom_ps": drift_fit(t_ps, e_tot, len(atoms)),
        "nve_sigma_Etot_meV_atom": float(np.std(e_tot) * 1000 / len(atoms)),
        "nve_sigma_Ekin_meV_atom": float(np.std(nve["KinEng"] * KCAL) * 1000 / len(atoms)),
    }


def read_all_thermo(log_path):
    """Every thermo table of a LAMMPS log, as {column: array}."""
    tables, header, rows = [], None, []
    with open(log_path) as f:
        for line in f:
            parts = line.split()
            if parts and parts[0] == "Step":
                header, rows = parts, []
                continue
            if header is not None:
                try:
                    rows.append([float(p) for p in parts])
                    if len(rows[-1]) != len(header):
                        rows.pop()
                        raise ValueError
                except ValueError:
                    if rows:
                        tables.append({h: np.array([r[i] for r in rows]) for i, h in enumerate(header)})
                    header, rows = None, []
    return tables


# ---------------------------------------------------------------- model (PyTorch reference, float32)
class ModelMdFailure(RuntimeError):
    """The model's MD left the physical region (a molecule broke apart or the energy went non-finite)."""


def run_model_npt(args, model, out_dir, interrupt_after=None):
    atoms = read(args.start)
    md = ModelMD(model, atoms.numbers, atoms.get_positions(), atoms.cell.array, args.seed, args.temperature)
    dt, gamma = args.dt_fs * units.fs, args.friction_per_fs / units.fs
    p = args.pressure_bar * BAR
    steps = int(round((args.equil_ps + args.npt_ps) * 1000 / args.dt_fs))
    ck_path = os.path.join(out_dir, "model_npt_ck.npz")
    done, log, wall0 = load_checkpoint(ck_path, md, args, "model_npt") or (0, [], 0.0)
    t0 = time.time()
    for step in range(done + 1, steps + 1):
        md.baoab(dt, gamma)
        if step % args.barostat_interval == 0:
            md.barostat(p)
        if step % 10 == 0:
            log.append((step * args.dt_fs / 1000, md.e, md.temperature(), md.density()))
            oh = md.oh_lengths()
            if not np.isfinite(md.e) or oh.max() > 1.5:
                raise ModelMdFailure(f"model NPT: at step {step} ({step * args.dt_fs / 1000:.2f} ps) the longest O–H "
                                     f"bond is {oh.max():.2f} Å, E_pot {md.e:.3f} eV, density {md.density():.3f} g/cm³")
        if checkpoint_due(args, step, steps):
            save_checkpoint(ck_path, md, args, "model_npt", step, log, wall0 + time.time() - t0)
        if step % 2000 == 0:
            oh = md.oh_lengths()
            print(json.dumps({"phase": "model_npt", "step": step, "of": steps, "T_K": round(md.temperature(), 1),
                              "density": round(md.density(), 4), "E_pot_eV": round(md.e, 4),
                              "OH_A": [round(float(oh.min()), 3), round(float(oh.max()), 3)],
                              "acceptance": round(md.accepted / max(md.attempts, 1), 2),
                              "wall_s": round(wall0 + time.time() - t0)}), flush=True)
        if step == interrupt_after:
            raise Interrupted(f"model NPT stopped after step {step}")
    log = np.array(log)
    prod = log[log[:, 0] > args.equil_ps]
    n_mol = len(atoms) // 3
    rho, rho_err = block_stats(prod[:, 3])
    u, u_err = block_stats(prod[:, 1] / n_mol / KCAL)
    save_run(os.path.join(out_dir, "model_npt_state.npz"), md)
    np.save(os.path.join(out_dir, "model_npt_log.npy"), log)
    return {"engine": "PyTorch float32 reference of the shipped weights; Langevin BAOAB "
                      f"{args.friction_per_fs}/fs + MC barostat every {args.barostat_interval} steps",
            "equil_ps": args.equil_ps, "npt_ps": args.npt_ps, "dt_fs": args.dt_fs,
            "T_K": float(prod[:, 2].mean()), "density_g_cm3": [rho, rho_err], "U_liq_kcal_mol": [u, u_err],
            "barostat_acceptance": md.accepted / max(md.attempts, 1), "wall_s": round(wall0 + time.time() - t0, 1)}


def run_model_nve(args, model, out_dir, interrupt_after=None):
    atoms = read(args.start)
    md = ModelMD(model, atoms.numbers, atoms.get_positions(), atoms.cell.array, args.seed + 1, args.temperature)
    dt = args.dt_fs * units.fs
    steps = int(round(args.nve_ps * 1000 / args.dt_fs))
    ck_path = os.path.join(out_dir, "model_nve_ck.npz")
    resumed = load_checkpoint(ck_path, md, args, "model_nve")
    if resumed is None:
        load_run(os.path.join(out_dir, "model_npt_state.npz"), md)
    done, log, wall0 = resumed or (0, [], 0.0)
    t0 = time.time()
    for step in range(done + 1, steps + 1):
        log.append(nve_step(md, dt, step * args.dt_fs / 1000))
        if checkpoint_due(args, step, steps):
            save_checkpoint(ck_path, md, args, "model_nve", step, log, wall0 + time.time() - t0)
        if step % 2000 == 0:
            print(json.dumps({"phase": "model_nve", "step": step, "of": steps, "T_K": round(md.temperature(), 1),
                              "E_tot_eV": round(md.e + md.kinetic(), 5), "wall_s": round(wall0 + time.time() - t0)}),
                  flush=True)
        if step == interrupt_after:
            raise Interrupted(f"model NVE stopped after step {step}")
    log = np.array(log)
    np.save(os.path.join(out_dir, "model_nve_log.npy"), log)
    n = len(atoms)
    return {"nve_ps": args.nve_ps, "dt_fs": args.dt_fs, "T_K": float(log[:, 3].mean()),
            "nve_drift_meV_atom_ps": drift_fit(log[:, 0], log[:, 1], n),
            "nve_sigma_Etot_meV_atom": float(np.std(log[:, 1]) * 1000 / n),
            "nve_sigma_Ekin_meV_atom": float(np.std(log[:, 2]) * 1000 / n),
            "drift_report": report(log[:, 0], log[:, 1], log[:, 2], n, log[:, 5]),
            "wall_s": round(wall0 + time.time() - t0, 1)}


def run_model_gas(args, model, out_dir, interrupt_after=None):
    """Monomer: minimum energy (L-BFGS on the model) and the mean energy of a Langevin run at T."""
    from scipy.optimize import minimize
    numbers = np.array([8, 1, 1])
    md = ModelMD(model, numbers, molecule_template(), np.zeros((3, 3)), args.seed + 2, args.temperature)

    def fun(x):
        f, e = md.forces(x.reshape(3, 3), None)
        return e, -f.reshape(-1)

    # the minimisation is deterministic and short: redone on a rerun, the Langevin run continues from its checkpoint
    res = minimize(fun, molecule_template().reshape(-1), jac=True, method="L-BFGS-B", options={"gtol": 1e-6})
    e_min = float(res.fun)
    x = res.x.reshape(3, 3)
    r1, r2 = np.linalg.norm(x[1] - x[0]), np.linalg.norm(x[2] - x[0])
    angle = np.degrees(np.arccos(np.dot(x[1] - x[0], x[2] - x[0]) / (r1 * r2)))
    md.pos = x.copy()
    md.f, md.e = md.forces(md.pos, None)
    dt, gamma = args.dt_fs * units.fs, 0.01 / units.fs
    steps = int(round(args.gas_ps * 1000 / args.dt_fs))
    ck_path = os.path.join(out_dir, "model_gas_ck.npz")
    done, log, _ = load_checkpoint(ck_path, md, args, "model_gas") or (0, [], 0.0)
    energies = [r[0] for r in log]
    for step in range(done + 1, steps + 1):
        md.baoab(dt, gamma)
        if step > steps // 5:
            energies.append(md.e)
        if checkpoint_due(args, step, steps):
            save_checkpoint(ck_path, md, args, "model_gas", step, [(e,) for e in energies], 0.0)
        if step == interrupt_after:
            raise Interrupted(f"model gas stopped after step {step}")
    kT = units.kB * args.temperature
    u_sampled, u_sampled_err = block_stats(np.array(energies) / KCAL)
    return {"E_min_kcal_mol": e_min / KCAL, "r_OH_A": [float(r1), float(r2)], "angle_HOH_deg": float(angle),
            "U_gas_harmonic_kcal_mol": (e_min + 1.5 * kT) / KCAL,
            "U_gas_sampled_kcal_mol": [u_sampled, u_sampled_err], "gas_ps": args.gas_ps}


def build_parser():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=os.path.join(ROOT, "public", "models", "water-spcfw-small"))
    ap.add_argument("--run", help="a training run directory instead of --model (the EMA weights of its checkpoint)")
    ap.add_argument("--out", default=os.path.join(HERE, "runs", "validation"))
    ap.add_argument("--start", default=START, help="start structure (extXYZ, periodic, [O, H, H] per molecule; the "
                    "teacher's 6 Å cutoff needs a box over 12 Å)")
    ap.add_argument("--temperature", type=float, default=300.0)
    ap.add_argument("--pressure-bar", type=float, default=1.0)
    ap.add_argument("--dt-fs", type=float, default=0.5)
    ap.add_argument("--friction-per-fs", type=float, default=0.01)
    ap.add_argument("--barostat-interval", type=int, default=25)
    ap.add_argument("--equil-ps", type=float, default=2.0)
    ap.add_argument("--npt-ps", type=float, default=8.0)
    ap.add_argument("--nve-ps", type=float, default=3.0)
    ap.add_argument("--gas-ps", type=float, default=4.0)
    ap.add_argument("--teacher-npt-ps", type=int, default=100)
    ap.add_argument("--teacher-nve-ps", type=int, default=10)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--checkpoint-every", type=int, default=500,
                    help="MD steps between checkpoints of the model phases (does not change the results)")
    ap.add_argument("--quick", action="store_true", help="tiny run lengths (a smoke test of the pipeline)")
    ap.add_argument("--report", action="store_true", help="only print the markdown table of an existing --out")
    return ap


def prepare(args, model):
    """Apply --quick and fill in the settings a checkpoint or results.json is checked against."""
    if args.quick:
        args.equil_ps, args.npt_ps, args.nve_ps, args.gas_ps = 0.05, 0.1, 0.05, 0.05
        args.teacher_npt_ps, args.teacher_nve_ps = 2, 1
        args.out = args.out.rstrip("/") + "-quick"
    args.model_path = os.path.relpath(os.path.abspath(args.run or args.model), ROOT)
    args.start_path = os.path.relpath(os.path.abspath(args.start), ROOT)
    args.model_sha256 = model_sha256(model)
    return args


def main():
    args = build_parser().parse_args()
    if args.report:
        print(markdown_report(json.load(open(os.path.join(args.out, "results.json")))))
        return
    torch.set_num_threads(1)
    model, _ = load_for_eval(run=args.run) if args.run else load_for_eval(model_dir=args.model)
    prepare(args, model)
    os.makedirs(args.out, exist_ok=True)
    results_path = os.path.join(args.out, "results.json")
    results = json.load(open(results_path)) if os.path.exists(results_path) else {}
    if "settings" in results:
        check_settings(results["settings"], settings_of(args), results_path)
    elif results:
        print(json.dumps({"note": f"{results_path} has no recorded settings (written before they were); its "
                          f"phases {sorted(results)} are taken as done with these arguments"}), flush=True)
    results["settings"] = settings_of(args)
    phases = [("teacher", lambda: run_teacher(args, args.out)),
              ("model_gas", lambda: run_model_gas(args, model, args.out)),
              ("model_npt", lambda: run_model_npt(args, model, args.out)),
              ("model_nve", lambda: run_model_nve(args, model, args.out))]
    for name, fn in phases:
        if name in results:
            print(json.dumps({"phase": name, "done": results_path}), flush=True)
            continue
        try:
            results[name] = fn()
        except ModelMdFailure as err:
            results[name] = {"failed": str(err)}
            print(json.dumps({name: results[name]}), flush=True)
            with open(results_path, "w") as f:
                json.dump(results, f, indent=1)
            raise SystemExit(f"stopped: {err}")
        print(json.dumps({name: results[name]}), flush=True)
        with open(results_path, "w") as f:
            json.dump(results, f, indent=1)
    kT = units.kB * args.temperature / KCAL
    gas, liq = results["model_gas"], results["model_npt"]
    u_liq, u_err = liq["U_liq_kcal_mol"]
    results["model_dH_vap_kcal_mol"] = {"harmonic_gas": [gas["U_gas_harmonic_kcal_mol"] - u_liq + kT, u_err],
                                        "sampled_gas": [gas["U_gas_sampled_kcal_mol"][0] - u_liq + kT,
                                                        float(np.hypot(u_err, gas["U_gas_sampled_kcal_mol"][1]))]}
    results["model"] = args.run or args.model
    results["water_molar_mass"] = WATER_MOLAR_MASS
    with open(results_path, "w") as f:
        json.dump(results, f, indent=1)
    report = markdown_report(results)
    with open(os.path.join(args.out, "report.md"), "w") as f:
        f.write(report)
    print(report)


def markdown_report(r):
    """The teacher-vs-model table of docs/validation.md, from results.json."""
    t, g, npt, nve, dh = r["teacher"], r["model_gas"], r["model_npt"], r["model_nve"], r["model_dH_vap_kcal_mol"]
    pm = lambda v, d=3: f"{v[0]:.{d}f} ± {v[1]:.{d}f}"  # noqa: E731
    rows = [
        ("run", f"NPT {t['npt_ps']} ps + NVE {t['nve_ps']} ps (Nosé–Hoover)",
         f"NPT {npt['equil_ps']} + {npt['npt_ps']} ps (Langevin + MC barostat), NVE {nve['nve_ps']} ps"),
        ("⟨T⟩ in NPT (K)", f"{t['T_K']:.1f}", f"{npt['T_K']:.1f}"),
        ("density (g/cm³)", pm(t["density_g_cm3"]), pm(npt["density_g_cm3"])),
        ("U_liq per molecule (kcal/mol)", pm(t["U_liq_kcal_mol"], 2), pm(npt["U_liq_kcal_mol"], 2)),
        ("U_gas per molecule (kcal/mol)", f"{t['U_gas_kcal_mol']:.2f} (3/2 kT, E_min = 0)",
         f"{g['U_gas_harmonic_kcal_mol']:.2f} (E_min {g['E_min_kcal_mol']:+.2f} + 3/2 kT); sampled {pm(g['U_gas_sampled_kcal_mol'], 2)}"),
        ("ΔH_vap (kcal/mol)", pm(t["dH_vap_kcal_mol"], 2),
         f"{pm(dh['harmonic_gas'], 2)} (sampled gas: {pm(dh['sampled_gas'], 2)})"),
        ("NVE drift (meV/atom/ps, 0.5 fs)", f"{t['nve_drift_meV_atom_ps']:+.4f}", f"{nve['nve_drift_meV_atom_ps']:+.4f}"),
        ("NVE \\|drift\\|·50 ps/σ(E_kin) (mlipaudit ratio, extrapolated)",
         f"{abs(t['nve_drift_meV_atom_ps']) * BENCHMARK_PS / t['nve_sigma_Ekin_meV_atom']:.3f}",
         f"{abs(nve['nve_drift_meV_atom_ps']) * BENCHMARK_PS / nve['nve_sigma_Ekin_meV_atom']:.3f}"),
        ("NVE σ(E_tot) / σ(E_kin) (meV/atom)", f"{t['nve_sigma_Etot_meV_atom']:.3f} / {t['nve_sigma_Ekin_meV_atom']:.2f}",
         f"{nve['nve_sigma_Etot_meV_atom']:.3f} / {nve['nve_sigma_Ekin_meV_atom']:.2f}"),
    ]
    start = r.get("settings", {}).get("start_path", "public/systems/water64_box.xyz")
    system = "64 molecules from " if start == "public/systems/water64_box.xyz" else "start "
    out = [f"Model: `{r['model']}`. {system}`{start}`, 300 K, 1 bar; error bars are "
           "standard errors of 5 block means.", "", "| quantity | teacher (SPC/Fw, LAMMPS) | model |", "|---|---|---|"]
    out += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
