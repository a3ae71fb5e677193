"""training/drift_report.py: the drift fit and mlipaudit ratios on a synthetic series with known slope and noise,
the continuity summary, and both log formats it reads (the .npy of validate_water.py/md_check.py, a thermo CSV)."""
import numpy as np
import pytest

from drift_report import continuity_stats, drift_stats, read_log, report


def _series(n=2001, slope=0.02, a=0.003, b=0.4):
    t = np.arange(n) * 0.001  # ps
    e_tot = -50 + slope * t + np.where(np.arange(n) % 2, -a, a)
    e_kin = 25 + b * np.sin(2 * np.pi * 5 * t)
    return t, e_tot, e_kin


def test_drift_stats_recovers_known_slope_noise_and_ratios():
    t, e, k = _series()
    r = drift_stats(t, e, k, n_atoms=100)
    sigma = 0.4 / np.sqrt(2)
    assert r["duration_ps"] == pytest.approx(2.0)
    assert r["drift_meV_atom_ps"] == pytest.approx(0.2, rel=1e-5)
    assert r["sigma_Ekin_meV_atom"] == pytest.approx(sigma * 10, rel=1e-3)
    assert r["mlipaudit_ratio"] == pytest.approx(0.02 * 2 / sigma, rel=1e-3)
    assert r["mlipaudit_ratio_50ps_extrapolated"] == pytest.approx(0.02 * 50 / sigma, rel=1e-3)
    assert r["rms_Etot_about_fit_meV_atom"] == pytest.approx(0.03, rel=1e-3)


def test_drift_stats_needs_a_time_span():
    with pytest.raises(ValueError, match="at least 3 rows"):
        drift_stats([0.0, 1.0], [0.0, 1.0], [1.0, 1.0], 1)


def test_continuity_stats_names_the_largest_jump_and_its_step():
    j = np.full(100, 1e-6)
    j[37] = -5e-3
    c = continuity_stats(j)
    assert c["max_abs_jump_meV"] == pytest.approx(5.0)
    assert c["max_jump_step"] == 38  # row 0 is step 1
    assert c["mean_abs_jump_meV"] == pytest.approx((5e-3 + 99e-6) / 100 * 1000)


def test_reads_npy_and_csv_logs(tmp_path):
    t, e, k = _series(n=101)
    jump = np.zeros_like(t)
    jump[10] = 2e-3
    npy = tmp_path / "log.npy"
    np.save(npy, np.stack([t, e, k, np.full_like(t, 300.0), e - k, jump], axis=1))
    t1, e1, k1, j1 = read_log(str(npy))
    r = report(t1, e1, k1, 10, j1)
    assert r["continuity"]["max_jump_step"] == 11
    csv = tmp_path / "thermo.csv"
    lines = ["step,time_ps,epot_eV,ekin_eV,etot_eV"] + [f"{i},{t[i]},{e[i] - k[i]},{k[i]},{e[i]}" for i in range(len(t))]
    csv.write_text("\n".join(lines) + "\n")
    t2, e2, k2, j2 = read_log(str(csv))
    assert j2 is None
    assert drift_stats(t2, e2, k2, 10) == pytest.approx(drift_stats(t, e, k, 10))
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="time_ps, etot_eV, ekin_eV"):
        read_log(str(bad))
