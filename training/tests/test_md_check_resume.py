"""training/md_check.py --checkpoint: a run stopped in its NVT part and again in its NVE part, then continued, gives
the same NVE log as one run straight through (the Langevin RNG state travels in the checkpoint). Long NVE runs for
issue 14 (20 ps, ~2 h here) depend on it."""
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(HERE)
ARGS = ["--model", os.path.join(ROOT, "public", "models", "water-spcfw-small"),
        "--start", os.path.join(ROOT, "public", "systems", "water.xyz")]


def _run(tmp, steps, nve_steps, name, checkpoint=None):
    cmd = [sys.executable, os.path.join(HERE, "md_check.py"), *ARGS, "--steps", str(steps), "--nve-steps", str(nve_steps),
           "--nve-log", str(tmp / f"{name}.npy"), "--out", str(tmp / f"{name}.json")]
    if checkpoint:
        cmd += ["--checkpoint", str(checkpoint)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def test_interrupted_run_continues_bit_for_bit(tmp_path):
    _run(tmp_path, 400, 400, "straight")
    ck = tmp_path / "run.ck.npz"
    # stop after 200 of the 400 NVT steps: a run with --steps 200 would start NVE, so emulate the stop by a run
    # whose NVT part is cut at its checkpoint: give the same arguments and kill it after the first checkpoint
    cmd = [sys.executable, os.path.join(HERE, "md_check.py"), *ARGS, "--steps", "400", "--nve-steps", "400",
           "--nve-log", str(tmp_path / "resumed.npy"), "--checkpoint", str(ck)]
    for expected_phase in ("nvt", "nve"):
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
        for line in proc.stdout:
            rec = json.loads(line) if line.startswith("{") else {}
            if (expected_phase == "nvt" and rec.get("step") == 220) or rec.get("nve_step") == 200:
                break
        proc.kill()
        proc.wait()
        assert ck.exists()
        assert str(np.load(ck)["phase"]) == expected_phase
    stdout = _run(tmp_path, 400, 400, "resumed", checkpoint=ck)
    assert '"resumed"' in stdout
    straight, resumed = np.load(tmp_path / "straight.npy"), np.load(tmp_path / "resumed.npy")
    assert straight.shape == resumed.shape == (400, 6)
    np.testing.assert_array_equal(straight, resumed)
    s, r = json.load(open(tmp_path / "straight.json")), json.load(open(tmp_path / "resumed.json"))
    assert r["nve"]["drift_meV_atom_ps"] == s["nve"]["drift_meV_atom_ps"]
    assert r["molecules_intact"] and r["mean_T_K_second_half"] == s["mean_T_K_second_half"]
