"""training/validate_water.py resumes: its model NPT (Langevin + MC barostat) and NVE phases, stopped mid-run (an
exception after step N, standing in for a kill) and called again, continue from their last checkpoint and end
bit for bit where one run straight through ends: the same positions, velocities, cell, RNG state, barostat step
and logs. A checkpoint of other settings is refused with the difference named. Shipped model water-spcfw-smooth
on an 8-molecule periodic box (a 64-molecule step costs ~0.5 s here), run lengths of a few tens of steps."""
import json
import os
import sys

import numpy as np
import pytest
from ase import Atoms
from ase.io import write

TRAINING = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(TRAINING)
sys.path.insert(0, TRAINING)
sys.path.insert(0, os.path.join(TRAINING, "data"))
import validate_water as vw  # noqa: E402
from evaluate import load_for_eval  # noqa: E402
from make_water import box_length, grid_molecules  # noqa: E402

MODEL = os.path.join(ROOT, "public", "models", "water-spcfw-smooth")
# 80 NPT steps (20 of them equilibration), a barostat attempt every 4 steps (its step is retuned after every 10
# attempts: steps 40 and 80), a checkpoint every 10 steps; 20 NVE steps
LENGTHS = ["--equil-ps", "0.01", "--npt-ps", "0.03", "--nve-ps", "0.01", "--barostat-interval", "4",
           "--checkpoint-every", "10", "--seed", "3"]


@pytest.fixture(scope="module")
def model():
    return load_for_eval(model_dir=MODEL)[0]


@pytest.fixture(scope="module")
def start(tmp_path_factory):
    n, L = 8, box_length(8, 1.0)
    pos = np.concatenate(grid_molecules(n, L, np.random.default_rng(0)))
    path = tmp_path_factory.mktemp("start") / "water8_box.xyz"
    write(str(path), Atoms(numbers=[8, 1, 1] * n, positions=pos, cell=np.eye(3) * L, pbc=True))
    return str(path)


def make_args(model, start, out, *extra):
    args = vw.build_parser().parse_args(["--model", MODEL, "--start", start, "--out", str(out), *LENGTHS, *extra])
    os.makedirs(args.out, exist_ok=True)
    return vw.prepare(args, model)


def without_wall(r):
    return {k: v for k, v in r.items() if k != "wall_s"}


def assert_same_state(a, b):
    sa, sb = np.load(a), np.load(b)
    for k in ("pos", "vel", "cell", "volume_step", "rng"):
        np.testing.assert_array_equal(sa[k], sb[k], err_msg=k)


def test_model_npt_and_nve_resume_bit_for_bit(model, start, tmp_path):
    straight, resumed = make_args(model, start, tmp_path / "straight"), make_args(model, start, tmp_path / "resumed")
    npt_straight = vw.run_model_npt(straight, model, straight.out)

    # stopped at step 35 (checkpoint 30: 7 barostat attempts into the first window), again at 67 (checkpoint 60)
    for stop in (35, 67):
        with pytest.raises(vw.Interrupted):
            vw.run_model_npt(resumed, model, resumed.out, interrupt_after=stop)
        assert int(np.load(os.path.join(resumed.out, "model_npt_ck.npz"))["step"]) == stop // 10 * 10
    npt_resumed = vw.run_model_npt(resumed, model, resumed.out)
    log_s, log_r = (np.load(os.path.join(a.out, "model_npt_log.npy")) for a in (straight, resumed))
    assert log_s.shape == (8, 4)
    np.testing.assert_array_equal(log_s, log_r)
    assert_same_state(*(os.path.join(a.out, "model_npt_state.npz") for a in (straight, resumed)))
    assert without_wall(npt_resumed) == without_wall(npt_straight)
    assert 0 < npt_straight["barostat_acceptance"] <= 1
    # the barostat's step was retuned (after 10 attempts) and still matches
    assert float(np.load(os.path.join(straight.out, "model_npt_state.npz"))["volume_step"]) != 0.01 * box_length(8, 1.0) ** 3

    # a finished phase whose result was not recorded (killed before results.json was written) runs no step again
    assert without_wall(vw.run_model_npt(resumed, model, resumed.out)) == without_wall(npt_straight)

    nve_straight = vw.run_model_nve(straight, model, straight.out)
    with pytest.raises(vw.Interrupted):
        vw.run_model_nve(resumed, model, resumed.out, interrupt_after=13)
    nve_resumed = vw.run_model_nve(resumed, model, resumed.out)
    log_s, log_r = (np.load(os.path.join(a.out, "model_nve_log.npy")) for a in (straight, resumed))
    assert log_s.shape == (20, 6)
    np.testing.assert_array_equal(log_s, log_r)
    assert_same_state(*(os.path.join(a.out, "model_nve_ck.npz") for a in (straight, resumed)))
    assert json.dumps(without_wall(nve_resumed)) == json.dumps(without_wall(nve_straight))

    # other settings: refused, naming what differs
    other = make_args(model, start, resumed.out, "--npt-ps", "0.04")
    with pytest.raises(SystemExit, match=r"npt_ps: 0\.03 there, 0\.04 now"):
        vw.run_model_npt(other, model, other.out)
    other = make_args(model, start, resumed.out, "--seed", "4")
    with pytest.raises(SystemExit, match="seed: 3 there, 4 now"):
        vw.run_model_nve(other, model, other.out)
