"""Ship a trained model: model.json + weights.safetensors + metrics.json + card.md, and list it in index.json.

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 training/export.py --run training/runs/water-small \
        --eval training/runs/water-small/eval.json --out public/models/water-spcfw-small --default

Also writes test/fixtures/shipped/<dir>.case.json: one held-out frame with the teacher's labels and the shipped
model's float64 outputs (PyTorch reference, `scaip.io.load_model`), which the Python and TypeScript tests
reproduce from the shipped files.
"""
import argparse
import datetime
import json
import os
import subprocess
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from datasets import load_dataset  # noqa: E402
from fast_graph import FastAllScAIP  # noqa: E402

from scaip.io import load_model, save_model  # noqa: E402
from scaip.model import batch_structures  # noqa: E402

MODELS_DIR = os.path.join(REPO, "public", "models")
SHIPPED_FIXTURES = os.path.join(REPO, "test", "fixtures", "shipped")


def git_commit():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                              text=True).stdout.strip()
    except OSError:
        return "unknown"


def heldout_case(model_dir, test_traj, frame):
    """The shipped weights' float64 outputs on one held-out frame (what every runtime must reproduce)."""
    model = load_model(model_dir, dtype=torch.float64)
    s = test_traj.structure(frame)
    b = batch_structures([s], dtype=torch.float64)
    out = model.compute(b["numbers"], b["pos"], b["cell"], b["pbc"], b["charge"], b["spin"], b["natoms"])
    return {
        "source": f"held-out test frame {frame} of trajectory {test_traj.name}",
        "inputs": {"numbers": [int(z) for z in s["numbers"]], "positions": s["positions"].tolist(),
                   "cell": None if s["cell"] is None else np.asarray(s["cell"]).tolist(),
                   "pbc": [bool(p) for p in s["pbc"]],
                   # the frame's own total charge and spin multiplicity (organic ions, radicals), as computed above
                   "charge": int(s.get("charge", 0)), "spin": int(s.get("spin", 1))},
        "outputs": {"energy": float(out["energy"][0]), "energy_raw": float(out["energy_raw"][0]),
                    "forces": out["forces"].detach().tolist(),
                    "stress": out["stress"][0].detach().tolist() if "stress" in out and bool(out["stress_valid"][0])
                    else None},
        "teacher": {"energy": s["energy"], "forces": s["forces"].tolist()},
    }


def trained_elements(trajectories):
    """Sorted atomic numbers present in the training trajectories: the elements model.json says the model knows."""
    found = set()
    for t in trajectories:
        found.update(int(z) for z in t.numbers.unique().tolist())
    return sorted(found)


def with_elements(config, elements):
    """The config with a top-level "elements" right after "weights_file" (the order docs/model-format.md shows)."""
    out = {}
    for key, value in config.items():
        if key != "elements":
            out[key] = value
        if key == "weights_file":
            out["elements"] = elements
    return out


def update_index(models_dir, dir_name, name, description, make_default):
    path = os.path.join(models_dir, "index.json")
    index = {"default": None, "models": []}
    if os.path.exists(path):
        with open(path) as f:
            index = json.load(f)
    index["models"] = [m for m in index["models"] if m["dir"] != dir_name]
    index["models"].append({"dir": dir_name, "name": name, "description": description})
    index["models"].sort(key=lambda m: m["dir"])
    if make_default or index.get("default") is None:
        index["default"] = dir_name
    with open(path, "w") as f:
        json.dump(index, f, indent=2)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description="export a trained run as a shipped model directory")
    ap.add_argument("--run", required=True)
    ap.add_argument("--eval", required=True, help="evaluate.py output for this run")
    ap.add_argument("--out", required=True, help="public/models/<dir>")
    ap.add_argument("--default", action="store_true", help="make it the workbench's default model")
    ap.add_argument("--card", required=True, help="card template (markdown with {placeholders})")
    ap.add_argument("--extra", action="append", default=[], help="key=value pairs for the card template")
    ap.add_argument("--based-on", help="the shipped model directory this run was fine-tuned from (train.py --init-from): "
                                      "its provenance goes into this one's")
    ap.add_argument("--fixtures", default=SHIPPED_FIXTURES, help="where the held-out case JSON goes")
    ap.add_argument("--name", help="model name in model.json and index.json (default: the run's config name)")
    ap.add_argument("--version", help="model version in model.json (default: the run's config version)")
    ap.add_argument("--description", help="one-line description (default: the run's config description)")
    args = ap.parse_args()
    torch.set_num_threads(1)

    ckpt = torch.load(os.path.join(args.run, "checkpoint.pt"))
    with open(args.eval) as f:
        ev = json.load(f)
    config = json.loads(json.dumps(ckpt["config"]))
    # a fine-tune inherits its parent's name; a second shipped model of the same family needs its own
    for key in ("name", "version", "description"):
        if getattr(args, key):
            config[key] = getattr(args, key)
    dir_name = os.path.basename(os.path.normpath(args.out))
    main_group = ev["main_group"]
    g = ev["groups"][main_group]
    config["provenance"] = {
        "source": "trained in this repository (training/train.py)",
        "teacher": "SPC/Fw water + PPPM (LAMMPS)" if ckpt["preset"].startswith("water") else
        "GFN2-xTB (xtb 6.5.1)" if ckpt["preset"].startswith("organics") else
        "random ionic gas, LJ + Ewald (LAMMPS)",
        "preset": ckpt["preset"], "seed": ckpt["seed"], "steps": ckpt["step"],
        "training_minutes": round(ckpt["elapsed"] / 60, 1), "weights": "EMA of the training weights",
        "commit": git_commit(), "exported": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%MZ"),
    }
    if args.based_on:
        with open(os.path.join(args.based_on, "model.json")) as f:
            config["provenance"]["fine_tuned_from"] = json.load(f)["provenance"]
    data = load_dataset(ev["dataset"])
    # The elements the model has seen are those of its training frames (not validation or test).
    config = with_elements(config, trained_elements(data["train"]))
    model = FastAllScAIP(config)
    model.load_state_dict(ckpt["ema"])
    save_model(model, args.out, config)
    n_params = sum(p.numel() for p in model.parameters())

    metrics = {
        "energy_mae_meV_per_atom": g["energy_mae_meV_per_atom"],
        "force_mae_meV_per_A": g["force_mae_meV_per_A"],
        "energy_rmse_meV_per_atom": g["energy_rmse_meV_per_atom"],
        "force_rmse_meV_per_A": g["force_rmse_meV_per_A"],
        "n_test_frames": g["n_frames"],
        "test_set": main_group,
        "test_trajectories": g["trajectories"],
        "test_frame_stride": ev["test_stride"],
        "by_group": ev["groups"],
        "rotational_variance": ev["rotational_variance"],
        "n_parameters": n_params,
        "training_steps": ckpt["step"],
        "training_minutes": round(ckpt["elapsed"] / 60, 1),
        "evaluated_with": "EMA weights, float32, PyTorch reference model",
    }
    if "heldout_molecules" in ev:
        metrics["heldout_molecules"] = ev["heldout_molecules"]
    if "separation_curve" in ev:
        metrics["separation_curve"] = ev["separation_curve"]
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=1)
        f.write("\n")

    # held-out fixture: the first frame of the first test trajectory of the main group
    test = [t for t in data["test"] if t.group == main_group] or data["test"]
    os.makedirs(args.fixtures, exist_ok=True)
    case = heldout_case(args.out, test[0], 0)
    case["model_dir"] = f"public/models/{dir_name}"
    with open(os.path.join(args.fixtures, f"{dir_name}.case.json"), "w") as f:
        json.dump(case, f)

    arch = config["architecture"]
    fields = dict(
        name=config["name"], dir=dir_name, n_params=f"{n_params:,}", steps=ckpt["step"],
        minutes=f"{ckpt['elapsed'] / 60:.0f}", e_mae=f"{g['energy_mae_meV_per_atom']:.2f}",
        f_mae=f"{g['force_mae_meV_per_A']:.1f}", n_test=g["n_frames"],
        rot_e=f"{ev['rotational_variance']['energy_std_meV_per_atom']:.3f}",
        rot_f=f"{ev['rotational_variance']['force_std_meV_per_A']:.2f}",
        arch_line=(f"hidden {arch['hidden_size']}, {arch['num_layers']} layers, {arch['num_heads']} heads, "
                   f"RBF {arch['rbf_size']}, SH l<= {arch['sh_lmax']}, BOO l<= {arch['boo_lmax']}, "
                   f"kNN k = {arch['knn_k']} ({arch['knn_candidates']} candidates), cutoff {arch['cutoff']} Å, "
                   f"node attention {'on' if arch['use_node_attention'] else 'off'}, "
                   f"LAE {'on ' + str(arch['lae_frequency_list']) if arch['use_lae'] else 'off'}, "
                   f"ERoPE {'on (' + str(arch['erope_num_freq']) + ' frequencies)' if arch['use_erope'] else 'off'}"
                   f"{', envelope-weighted BOO' if arch.get('boo_envelope_weighted') else ''}"
                   f"{', smooth periodic ERoPE distance' if arch.get('erope_smooth_minimum_image') else ''}"
                   f"{', candidate margin (budget >= 2k)' if arch.get('knn_candidate_margin') else ''}"),
        group_table="\n".join(
            f"| {k} | {v['n_frames']} | {v['energy_mae_meV_per_atom']:.2f} | {v['force_mae_meV_per_A']:.1f} | "
            f"{v['energy_rmse_meV_per_atom']:.2f} | {v['force_rmse_meV_per_A']:.1f} |" for k, v in ev["groups"].items()),
        exported=config["provenance"]["exported"], commit=config["provenance"]["commit"],
        stride=ev["test_stride"], accuracy_note="", train_args="", fine_tune="", reproduce_extra="", stability_note="",
        train_note="", checks_note="", heldout_note="", heldout_table="",
    )
    if "heldout_molecules" in ev:
        ho = ev["heldout_molecules"]
        rows = [("all", ho["all"])] + [(f"group {k}", v) for k, v in ho["groups"].items()] + \
               [(k, v) for k, v in ho["molecules"].items()]
        fields["heldout_table"] = "\n".join(
            f"| {k} | {v['n_frames']} | {v['energy_mae_meV_per_atom']:.2f} | {v['force_mae_meV_per_A']:.1f} | "
            f"{v['energy_rmse_meV_per_atom']:.2f} | {v['force_rmse_meV_per_A']:.1f} |" for k, v in rows)
        fields["heldout_note"] = (f"energy MAE {ho['all']['energy_mae_meV_per_atom']:.2f} meV/atom, force MAE "
                                  f"{ho['all']['force_mae_meV_per_A']:.1f} meV/Å ({ho['all']['n_frames']} frames).")
    for split in ("train", "val", "test"):
        fields[f"n_{split}_frames"] = sum(len(t) for t in data[split])
        fields[f"n_{split}_traj"] = len(data[split])
    for kv in args.extra:
        k, v = kv.split("=", 1)
        fields[k] = v
    with open(args.card) as f:
        card = f.read().format(**fields)
    with open(os.path.join(args.out, "card.md"), "w") as f:
        f.write(card)
    update_index(os.path.dirname(os.path.abspath(args.out)), dir_name, config["name"], config["description"],
                 args.default)
    print(json.dumps({k: metrics[k] for k in ("energy_mae_meV_per_atom", "force_mae_meV_per_A", "n_test_frames",
                                              "n_parameters")}))


if __name__ == "__main__":
    main()
