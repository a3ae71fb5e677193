"""NVE energy-conservation report of an MD run, the way the field reports it (mlipaudit / ml-peg NVE benchmark).

    /usr/bin/python3 training/drift_report.py training/runs/validation/model_nve_log.npy --atoms 192
    /usr/bin/python3 training/drift_report.py thermo.csv --atoms 192 [--json out.json]

Reads a thermo log: the .npy of validate_water.py / md_check.py (columns t_ps, E_tot, E_kin, T[, E_pot, jump],
energies in eV, `jump` the per-step continuity residual) or a CSV with a header that names time_ps, etot_eV and
ekin_eV (the `npm run md` thermo CSV; an optional jump_eV column). Reports:
- drift: slope of a least-squares line through E_tot(t), meV/atom/ps;
- σ(E_kin): standard deviation of the kinetic energy, meV/atom;
- mlipaudit ratio |slope|·duration/σ(E_kin) over the run's own duration, and the same slope extrapolated to the
  benchmark's 50 ps (|slope|·50 ps/σ(E_kin)); their pass line is 1;
- RMS of E_tot about the fitted line, meV/atom (a surface with jumps random-walks here; smooth error scales as dt²);
- energy continuity, where the log has it: ΔE_pot + ½(F_n + F_{n+1})·Δx per step, the change of the potential
  energy not explained by the work of the forces (trapezoid rule; O(dt³) per step for a smooth surface): max |.|,
  mean |.| and the step of the largest.
"""
import argparse
import csv
import json

import numpy as np

BENCHMARK_PS = 50.0


def drift_stats(t_ps, e_tot_eV, e_kin_eV, n_atoms):
    """Linear-fit drift and its noise measures; energies in eV, times in ps."""
    t = np.asarray(t_ps, dtype=np.float64)
    e = np.asarray(e_tot_eV, dtype=np.float64)
    k = np.asarray(e_kin_eV, dtype=np.float64)
    if t.size < 3 or t[-1] <= t[0]:
        raise ValueError(f"a drift fit needs at least 3 rows over a positive time span (got {t.size} rows)")
    slope, intercept = np.polyfit(t - t[0], e, 1)
    resid = e - (slope * (t - t[0]) + intercept)
    duration = float(t[-1] - t[0])
    sigma_kin = float(np.std(k))
    ratio = abs(slope) * duration / sigma_kin if sigma_kin > 0 else float("inf")
    ratio50 = abs(slope) * BENCHMARK_PS / sigma_kin if sigma_kin > 0 else float("inf")
    return {
        "n_atoms": int(n_atoms), "rows": int(t.size), "duration_ps": duration,
        "drift_meV_atom_ps": float(slope * 1000.0 / n_atoms),
        "sigma_Ekin_meV_atom": sigma_kin * 1000.0 / n_atoms,
        "mlipaudit_ratio": float(ratio),
        "mlipaudit_ratio_50ps_extrapolated": float(ratio50),
        "rms_Etot_about_fit_meV_atom": float(np.sqrt(np.mean(resid ** 2)) * 1000.0 / n_atoms),
    }


def continuity_stats(jump_eV, first_step=1):
    """Largest and mean |ΔE_pot + ½(F_n + F_{n+1})·Δx| over the steps; `step` of the largest (first_step = row 0)."""
    j = np.asarray(jump_eV, dtype=np.float64)
    if j.size == 0:
        raise ValueError("no continuity residuals in the log")
    i = int(np.argmax(np.abs(j)))
    return {"max_abs_jump_meV": float(abs(j[i]) * 1000.0), "mean_abs_jump_meV": float(np.mean(np.abs(j)) * 1000.0),
            "max_jump_step": int(first_step + i), "steps": int(j.size)}


def read_log(path):
    """(t_ps, E_tot, E_kin, jump or None) from a .npy of validate_water.py/md_check.py or a thermo CSV."""
    if path.endswith(".npy"):
        a = np.load(path)
        return a[:, 0], a[:, 1], a[:, 2], (a[:, 5] if a.shape[1] >= 6 else None)
    with open(path) as fh:
        rows = list(csv.DictReader(fh))
    if not rows or not {"time_ps", "etot_eV", "ekin_eV"} <= set(rows[0]):
        raise ValueError(f"{path}: a thermo CSV needs the columns time_ps, etot_eV, ekin_eV")
    col = lambda name: np.array([float(r[name]) for r in rows])  # noqa: E731
    return col("time_ps"), col("etot_eV"), col("ekin_eV"), (col("jump_eV") if "jump_eV" in rows[0] else None)


def report(t_ps, e_tot, e_kin, n_atoms, jump=None):
    out = drift_stats(t_ps, e_tot, e_kin, n_atoms)
    if jump is not None:
        out["continuity"] = continuity_stats(jump)
    return out


def format_report(r):
    lines = [f"NVE over {r['duration_ps']:.3f} ps ({r['rows']} rows, {r['n_atoms']} atoms)",
             f"  drift (linear fit of E_tot)          {r['drift_meV_atom_ps']:+.4f} meV/atom/ps",
             f"  σ(E_kin)                             {r['sigma_Ekin_meV_atom']:.3f} meV/atom",
             f"  |slope|·duration/σ(E_kin)            {r['mlipaudit_ratio']:.3f} (mlipaudit ratio over this run)",
             f"  |slope|·50 ps/σ(E_kin) extrapolated  {r['mlipaudit_ratio_50ps_extrapolated']:.3f} (benchmark length; pass ≤ 1)",
             f"  RMS of E_tot about the fit           {r['rms_Etot_about_fit_meV_atom']:.4f} meV/atom"]
    c = r.get("continuity")
    if c:
        lines.append(f"  continuity ΔE_pot + ½(F_n+F_n+1)·Δx  max |.| {c['max_abs_jump_meV']:.3f} meV at step "
                     f"{c['max_jump_step']}, mean |.| {c['mean_abs_jump_meV']:.3f} meV over {c['steps']} steps")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("log", help="thermo log (.npy of validate_water.py / md_check.py, or a thermo CSV)")
    ap.add_argument("--atoms", type=int, required=True, help="number of atoms (the per-atom normalisation)")
    ap.add_argument("--skip-ps", type=float, default=0.0, help="leave out the first PS picoseconds")
    ap.add_argument("--json", help="also write the numbers here")
    args = ap.parse_args()
    t, e, k, j = read_log(args.log)
    keep = t >= t[0] + args.skip_ps
    r = report(t[keep], e[keep], k[keep], args.atoms, None if j is None else j[keep])
    print(format_report(r))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(r, fh, indent=1)


if __name__ == "__main__":
    main()
