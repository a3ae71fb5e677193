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
one molecule. Error bars are the standard error of block means (5 blocks). Each phase saves its result under --out,
and a rerun skips the phases already done.
"""
import argparse
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
from model_md import AMU_PER_A3_TO_G_CM3, ModelMD, load_run, save_run  # noqa: E402

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


# ---------------------------------------------------------------- teacher (LAMMPS)

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
    """Unwrapped [O, H, H] triples (the start file lists each molecule as O, H, H)."""
    pos = atoms.get_positions()
    cell = atoms.cell.array
    z = atoms.numbers
    if len(z) % 3 or not all((z[0::3] == 8) & (z[1::3] == 1) & (z[2::3] == 1)):
        raise ValueError(f"{START}: expected O, H, H per molecule")
    mols = pos.reshape(-1, 3, 3).copy()
    d = mols[:, 1:] - mols[:, :1]
    d -= np.round(d @ np.linalg.inv(cell)) @ cell
    mols[:, 1:] = mols[:, :1] + d
    return mols


def run_teacher(args, out_dir):
    atoms = read(START)
    L = float(atoms.cell.array[0, 0])
    work = os.path.join(out_dir, "teacher")
    os.makedirs(work, exist_ok=True)
    write_data(os.path.join(work, "data.lmp"), list(molecules_of(atoms)), [(0.0, L)] * 3)
    npt_steps, nve_steps = (args.teacher_npt_ps * 2000, args.teacher_nve_ps * 2000)
    seconds = run_lammps(teacher_script(args.temperature, npt_steps, nve_steps, 4000), work)
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


def run_model_npt(args, model, out_dir):
    atoms = read(START)
    md = ModelMD(model, atoms.numbers, atoms.get_positions(), atoms.cell.array, args.seed, args.temperature)
    dt, gamma = args.dt_fs * units.fs, args.friction_per_fs / units.fs
    p = args.pressure_bar * BAR
    steps = int(round((args.equil_ps + args.npt_ps) * 1000 / args.dt_fs))
    equil = int(round(args.equil_ps * 1000 / args.dt_fs))
    log, t0 = [], time.time()
    for step in range(1, steps + 1):
        md.baoab(dt, gamma)
        if step % args.barostat_interval == 0:
            md.barostat(p)
        if step % 10 == 0:
            log.append((step * args.dt_fs / 1000, md.e, md.temperature(), md.density()))
            oh = md.oh_lengths()
            if not np.isfinite(md.e) or oh.max() > 1.5:
                raise ModelMdFailure(f"model NPT: at step {step} ({step * args.dt_fs / 1000:.2f} ps) the longest O–H "
                                     f"bond is {oh.max():.2f} Å, E_pot {md.e:.3f} eV, density {md.density():.3f} g/cm³")
        if step % 2000 == 0:
            print(json.dumps({"phase": "model_npt", "step": step, "of": steps, "T_K": round(md.temperature(), 1),
                              "density": round(md.density(), 4), "E_pot_eV": round(md.e, 4),
                              "OH_A": [round(float(oh.min()), 3), round(float(oh.max()), 3)],
                              "acceptance": round(md.accepted / max(md.attempts, 1), 2),
                              "wall_s": round(time.time() - t0)}), flush=True)
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
            "barostat_acceptance": md.accepted / max(md.attempts, 1), "wall_s": round(time.time() - t0, 1)}


def run_model_nve(args, model, out_dir):
    atoms = read(START)
    md = ModelMD(model, atoms.numbers, atoms.get_positions(), atoms.cell.array, args.seed + 1, args.temperature)
    load_run(os.path.join(out_dir, "model_npt_state.npz"), md)
    dt = args.dt_fs * units.fs
    steps = int(round(args.nve_ps * 1000 / args.dt_fs))
    log, t0 = [], time.time()
    for step in range(1, steps + 1):
        pos0, f0, e0 = md.pos.copy(), md.f, md.e
        md.verlet(dt)
        # energy continuity: the change of E_pot not explained by the work of the forces (trapezoid rule);
        # positions are never wrapped here, so the displacement needs no minimum image
        jump = (md.e - e0) + 0.5 * float(((f0 + md.f) * (md.pos - pos0)).sum())
        log.append((step * args.dt_fs / 1000, md.e + md.kinetic(), md.kinetic(), md.temperature(), md.e, jump))
        if step % 2000 == 0:
            print(json.dumps({"phase": "model_nve", "step": step, "of": steps, "T_K": round(md.temperature(), 1),
                              "E_tot_eV": round(md.e + md.kinetic(), 5), "wall_s": round(time.time() - t0)}), flush=True)
    log = np.array(log)
    np.save(os.path.join(out_dir, "model_nve_log.npy"), log)
    n = len(atoms)
    return {"nve_ps": args.nve_ps, "dt_fs": args.dt_fs, "T_K": float(log[:, 3].mean()),
            "nve_drift_meV_atom_ps": drift_fit(log[:, 0], log[:, 1], n),
            "nve_sigma_Etot_meV_atom": float(np.std(log[:, 1]) * 1000 / n),
            "nve_sigma_Ekin_meV_atom": float(np.std(log[:, 2]) * 1000 / n),
            "drift_report": report(log[:, 0], log[:, 1], log[:, 2], n, log[:, 5]), "wall_s": round(time.time() - t0, 1)}


def run_model_gas(args, model):
    """Monomer: minimum energy (L-BFGS on the model) and the mean energy of a Langevin run at T."""
    from scipy.optimize import minimize
    numbers = np.array([8, 1, 1])
    md = ModelMD(model, numbers, molecule_template(), np.zeros((3, 3)), args.seed + 2, args.temperature)

    def fun(x):
        f, e = md.forces(x.reshape(3, 3), None)
        return e, -f.reshape(-1)

    res = minimize(fun, molecule_template().reshape(-1), jac=True, method="L-BFGS-B", options={"gtol": 1e-6})
    e_min = float(res.fun)
    x = res.x.reshape(3, 3)
    r1, r2 = np.linalg.norm(x[1] - x[0]), np.linalg.norm(x[2] - x[0])
    angle = np.degrees(np.arccos(np.dot(x[1] - x[0], x[2] - x[0]) / (r1 * r2)))
    md.pos = x.copy()
    md.f, md.e = md.forces(md.pos, None)
    dt, gamma = args.dt_fs * units.fs, 0.01 / units.fs
    energies = []
    steps = int(round(args.gas_ps * 1000 / args.dt_fs))
    for step in range(1, steps + 1):
        md.baoab(dt, gamma)
        if step > steps // 5:
            energies.append(md.e)
    kT = units.kB * args.temperature
    u_sampled, u_sampled_err = block_stats(np.array(energies) / KCAL)
    return {"E_min_kcal_mol": e_min / KCAL, "r_OH_A": [float(r1), float(r2)], "angle_HOH_deg": float(angle),
            "U_gas_harmonic_kcal_mol": (e_min + 1.5 * kT) / KCAL,
            "U_gas_sampled_kcal_mol": [u_sampled, u_sampled_err], "gas_ps": args.gas_ps}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=os.path.join(ROOT, "public", "models", "water-spcfw-small"))
    ap.add_argument("--run", help="a training run directory instead of --model (the EMA weights of its checkpoint)")
    ap.add_argument("--out", default=os.path.join(HERE, "runs", "validation"))
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
    ap.add_argument("--quick", action="store_true", help="tiny run lengths (a smoke test of the pipeline)")
    ap.add_argument("--report", action="store_true", help="only print the markdown table of an existing --out")
    args = ap.parse_args()
    if args.report:
        print(markdown_report(json.load(open(os.path.join(args.out, "results.json")))))
        return
    if args.quick:
        args.equil_ps, args.npt_ps, args.nve_ps, args.gas_ps = 0.05, 0.1, 0.05, 0.05
        args.teacher_npt_ps, args.teacher_nve_ps = 2, 1
        args.out = args.out.rstrip("/") + "-quick"
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    results_path = os.path.join(args.out, "results.json")
    results = json.load(open(results_path)) if os.path.exists(results_path) else {}
    model, _ = load_for_eval(run=args.run) if args.run else load_for_eval(model_dir=args.model)
    phases = [("teacher", lambda: run_teacher(args, args.out)), ("model_gas", lambda: run_model_gas(args, model)),
              ("model_npt", lambda: run_model_npt(args, model, args.out)),
              ("model_nve", lambda: run_model_nve(args, model, args.out))]
    for name, fn in phases:
        if name in results:
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
    out = [f"Model: `{r['model']}`. 64 molecules from `public/systems/water64_box.xyz`, 300 K, 1 bar; error bars are "
           "standard errors of 5 block means.", "", "| quantity | teacher (SPC/Fw, LAMMPS) | model |", "|---|---|---|"]
    out += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
