"""Train an AllScAIP model (the reference PyTorch model in scaip/) on the teacher data.

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 training/train.py --preset water-small --run training/runs/water-small

Energy + force loss (forces = -dE/dx, so the force loss back-propagates through a double backward), AdamW,
linear warm-up then cosine decay, random-rotation augmentation (the input features are not rotation invariant;
the symmetry is learned from data), an exponential moving average of the weights (the EMA is what is
evaluated and exported), train/val/test split by trajectory (fixed in the data index), a JSON-lines loss log
and checkpoints that resume (`--run` again with the same arguments continues where it stopped).

The schedule's progress is max(step/steps, elapsed/time_limit): without a time limit the run is fully
determined by its seed; with one, a slow (shared) machine ends the cosine early instead of stopping mid-way.
"""
import argparse
import copy
import json
import math
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from datasets import load_dataset, subsample  # noqa: E402
from fast_graph import FastAllScAIP  # noqa: E402
from scaip.config import validate_config  # noqa: E402
from scaip.io import read_config  # noqa: E402
from scaip.model import batch_structures  # noqa: E402
from scaip.safetensors import load_file  # noqa: E402

BASE_ARCH = {
    "hidden_size": 64, "num_layers": 2, "num_heads": 4, "max_num_elements": 20, "cutoff": 6.0, "knn_k": 16,
    "knn_soft": True, "knn_sigmoid_scale": 0.2, "knn_lse_scale": 0.1, "knn_candidates": 36, "rbf_size": 64,
    "sh_lmax": 3, "boo_lmax": 5, "ffn_multiplier": 2, "output_multiplier": 2, "use_node_attention": True,
    "use_lae": True, "lae_frequency_list": [4, 4, 4, 2, 2], "use_erope": True, "erope_num_freq": 16,
    "use_charge_spin": False, "rmsnorm_eps": 1.1920928955078125e-07,
}

PRESETS = {
    # default browser model: small enough for interactive MD at thousands of atoms and for this CPU
    # rbf 256 (Gaussian width 0.047 Å): the O-H bond fluctuates by only ~0.025 Å; 64 RBFs (0.19 Å) left the
    # stiff bond forces unlearned after 100 steps
    "water-small": dict(dataset="water", arch={"rbf_size": 256}, groups={"w64": 0.83, "vacuum": 0.15, "w216": 0.02},
                        batch=2, steps=1500, lr=3e-3, energy_weight=(100.0, 1000.0), eval_every=10,
                        name="water-spcfw-small",
                        description="SPC/Fw water (flexible, PPPM), small AllScAIP with LAE + ERoPE, CPU-trained"),
    # fine-tuning of the shipped water model (--init-from) with the active-learning frames of
    # training/active_learning.py: configurations the model's own MD reached, labelled by the teacher
    "water-small-al": dict(dataset="water_al", arch={"rbf_size": 256},
                           groups={"w64": 0.55, "al": 0.30, "vacuum": 0.13, "w216": 0.02},
                           batch=2, steps=3000, lr=1e-3, energy_weight=(300.0, 1000.0), eval_every=10,
                           name="water-spcfw-small",
                           description="SPC/Fw water (flexible, PPPM), small AllScAIP with LAE + ERoPE, CPU-trained"),
    # the long-range Coulomb part of the ionic gas is almost all energy and little force: a higher energy weight
    # late (600 steps at 5 -> 30 left the all-to-all model no better than the local twin); weight 100 from the
    # start stalled both energy and force learning (val F MAE stuck at the force spread for 900 steps)
    "ionic-gas-global": dict(dataset="ionic_gas", arch={"use_node_attention": True}, groups={"ionic": 1.0},
                             batch=2, steps=2400, lr=2e-3, energy_weight=(5.0, 100.0), eval_every=10,
                             name="ionic-gas-global",
                             description="Random ionic gas (LJ + Ewald): WITH all-to-all node attention"),
    "ionic-gas-local": dict(dataset="ionic_gas", arch={"use_node_attention": False}, groups={"ionic": 1.0},
                            batch=2, steps=2400, lr=2e-3, energy_weight=(5.0, 100.0), eval_every=10,
                            name="ionic-gas-local",
                            description="Random ionic gas (LJ + Ewald): local only, no node attention (control)"),
}


def model_config(preset, normalization):
    arch = dict(BASE_ARCH, **preset["arch"])
    return {
        "format": "scaip-web-model", "format_version": 1, "name": preset["name"], "version": "1.0.0",
        "description": preset["description"], "provenance": {}, "weights_file": "weights.safetensors",
        "architecture": arch,
        "heads": {"forces": "conservative", "energy_prefix": "output_heads.energyandforcehead.head.",
                  "force_prefix": None, "regress_stress": True},
        "normalization": normalization,
    }


def arch_override(item):
    """'key=json' from --arch, e.g. 'boo_envelope_weighted=true' -> ('boo_envelope_weighted', True)."""
    key, sep, value = item.partition("=")
    if not sep:
        raise SystemExit(f"--arch {item!r}: expected KEY=VALUE")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        raise SystemExit(f"--arch {item!r}: the value must be JSON (true, 4, [1, 2])") from None


def fit_normalization(train, max_z):
    """Per-element reference energies (least squares on composition) and the force spread as energy_scale.

    Water and the ionic gas have fixed stoichiometry, so composition alone cannot separate O from H (or Na
    from Cl): the minimum-norm least-squares solution splits the per-formula energy between the elements.
    """
    rows, rhs, forces = [], [], []
    for t in train:
        counts = np.bincount(t.numbers.numpy(), minlength=max_z).astype(np.float64)
        rows.append(np.repeat(counts[None], len(t), 0))
        rhs.append(t.energy)
        forces.append(t.forces[:: max(1, len(t) // 20)].reshape(-1))
    A, b = np.concatenate(rows), np.concatenate(rhs)
    refs = np.linalg.lstsq(A, b, rcond=None)[0]
    scale = float(np.sqrt(np.mean(np.concatenate(forces).astype(np.float64) ** 2)))
    return {"energy_scale": scale, "energy_shift": 0.0, "element_references": [float(x) for x in refs]}


def random_rotation(gen):
    q = torch.randn(4, generator=gen, dtype=torch.float64)
    q = q / q.norm()
    a, b, c, d = q
    return torch.stack([
        torch.stack([a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)]),
        torch.stack([2 * (b * c + a * d), a * a - b * b + c * c - d * d, 2 * (c * d - a * b)]),
        torch.stack([2 * (b * d - a * c), 2 * (c * d + a * b), a * a - b * b - c * c + d * d]),
    ])


def make_batch(structs, rotations=None, dtype=torch.float32):
    """Model inputs and targets for a list of structure dicts, each optionally rotated (positions, cell, forces)."""
    structs = [dict(s) for s in structs]
    if rotations is not None:
        for s, R in zip(structs, rotations):
            R = R.numpy()
            s["positions"] = s["positions"] @ R.T
            s["forces"] = s["forces"] @ R.T
            if s["cell"] is not None:
                s["cell"] = s["cell"] @ R.T
    b = batch_structures(structs, dtype=dtype)
    b["energy"] = torch.tensor([s["energy"] for s in structs], dtype=torch.float64)
    b["forces"] = torch.cat([torch.as_tensor(s["forces"], dtype=dtype) for s in structs])
    return b


def predict(model, b, create_graph=False):
    return model.compute(b["numbers"], b["pos"], b["cell"], b["pbc"], b["charge"], b["spin"], b["natoms"],
                         forces=True, stress=False, create_graph=create_graph)


def errors(model, trajs, frames, dtype=torch.float32):
    """Mean absolute energy error per atom (eV/atom) and force component error (eV/Å) over frames."""
    e_err, f_err, f_count = [], 0.0, 0
    for ti, fi in frames:
        t = trajs[ti]
        b = make_batch([t.structure(fi)], dtype=dtype)
        out = predict(model, b)
        e_err.append(abs(float(out["energy"][0]) - float(b["energy"][0])) / t.n_atoms)
        f_err += float((out["forces"].detach().double() - b["forces"].double()).abs().sum())
        f_count += b["forces"].numel()
    return float(np.mean(e_err)), f_err / f_count


def lr_at(progress, base_lr, warmup=0.03, final_ratio=0.01):
    if progress < warmup:
        return base_lr * max(progress / warmup, 0.02)
    p = min(1.0, (progress - warmup) / (1 - warmup))
    return base_lr * (final_ratio + (1 - final_ratio) * 0.5 * (1 + math.cos(math.pi * p)))


def main():
    ap = argparse.ArgumentParser(description="train an AllScAIP model on the teacher data")
    ap.add_argument("--preset", required=True, choices=sorted(PRESETS))
    ap.add_argument("--run", required=True, help="run directory (checkpoints, log); reused to resume")
    ap.add_argument("--steps", type=int, help="optimizer steps (default: the preset's)")
    ap.add_argument("--time-limit-min", type=float, default=0.0, help="wall-clock budget; 0 = none")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--energy-weight", help="energy loss weight before,after 60%% of the run, e.g. 10,100")
    ap.add_argument("--lr", type=float, help="peak learning rate (default: the preset's)")
    ap.add_argument("--batch", type=int, help="frames per step (default: the preset's)")
    ap.add_argument("--init-from", help="start from this shipped model directory's weights (fresh optimizer and "
                                        "schedule: fine-tuning); its model.json fixes the architecture and normalization")
    ap.add_argument("--arch", action="append", default=[], metavar="KEY=JSON",
                    help="set an architecture key of a new run (fresh or --init-from), e.g. boo_envelope_weighted=true "
                         "(the smooth-surface flags of docs/model-format.md); repeatable")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads; 1 on a shared machine (2 threads were 10x slower when the cores were busy)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    preset = dict(PRESETS[args.preset])
    if args.energy_weight:
        preset["energy_weight"] = tuple(float(x) for x in args.energy_weight.split(","))
    if args.lr:
        preset["lr"] = args.lr
    if args.batch:
        preset["batch"] = args.batch
    steps = args.steps or preset["steps"]
    os.makedirs(args.run, exist_ok=True)
    ckpt_path = os.path.join(args.run, "checkpoint.pt")
    log_path = os.path.join(args.run, "log.jsonl")

    data = load_dataset(preset["dataset"])
    train, val = data["train"], data["val"]
    group_trajs = {g: [i for i, t in enumerate(train) if t.group == g] for g in preset["groups"]}
    for g, ids in group_trajs.items():
        if not ids:
            raise RuntimeError(f"no training trajectories in group {g!r}")
    val_frames = subsample(val, max(1, sum(len(t) for t in val) // 12))  # ~12 fixed frames, quick check

    if os.path.exists(ckpt_path):
        ckpt = torch.load(ckpt_path)
        config = ckpt["config"]
        print(f"resuming {args.run} at step {ckpt['step']}", flush=True)
    elif args.init_from:
        ckpt = None
        config = {k: v for k, v in read_config(args.init_from).items() if k != "provenance"}
        config["provenance"] = {}
    else:
        ckpt = None
        max_z = int(max(int(t.numbers.max()) for t in train)) + 1
        config = model_config(preset, fit_normalization(train, max_z))
    if args.arch:
        overrides = dict(arch_override(item) for item in args.arch)
        if ckpt is not None and any(config["architecture"].get(k) != v for k, v in overrides.items()):
            raise SystemExit(f"{args.run}: resuming a run whose architecture differs from --arch {args.arch}")
        config["architecture"].update(overrides)
        config = validate_config(config)
    torch.manual_seed(args.seed)
    model = FastAllScAIP(config).float()
    if ckpt is None and args.init_from:
        model.load_state_dict(load_file(os.path.join(args.init_from, config["weights_file"])))
    elif ckpt is None:
        # zero output layer: the model starts at the reference energies and zero forces
        head = model._energy_head.energy_ffn[1][0]
        torch.nn.init.zeros_(head.weight)
        torch.nn.init.zeros_(head.bias)
    ema = copy.deepcopy(model)
    for p in ema.parameters():
        p.requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=preset["lr"], weight_decay=1e-4)
    gen = torch.Generator().manual_seed(args.seed)
    step, elapsed = 0, 0.0
    if ckpt is not None:
        model.load_state_dict(ckpt["model"])
        ema.load_state_dict(ckpt["ema"])
        opt.load_state_dict(ckpt["opt"])
        gen.set_state(ckpt["rng"])
        step, elapsed = ckpt["step"], ckpt["elapsed"]

    groups = list(preset["groups"])
    weights = torch.tensor([preset["groups"][g] for g in groups], dtype=torch.float64)
    scale = config["normalization"]["energy_scale"]
    e_w0, e_w1 = preset["energy_weight"]

    def save():
        torch.save({"config": config, "model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(),
                    "rng": gen.get_state(), "step": step, "elapsed": elapsed, "preset": args.preset,
                    "seed": args.seed, "steps": steps}, ckpt_path + ".tmp")
        os.replace(ckpt_path + ".tmp", ckpt_path)

    t_last_save = time.time()
    log = open(log_path, "a")
    while True:
        progress = step / steps
        if args.time_limit_min > 0:
            progress = max(progress, elapsed / (60 * args.time_limit_min))
        if progress >= 1.0:
            break
        t0 = time.time()
        lr = lr_at(progress, preset["lr"])
        for g in opt.param_groups:
            g["lr"] = lr
        # energy weight ramps up late: forces first, then the energy (as the reference's fine-tuning stage)
        e_weight = e_w0 if progress < 0.6 else e_w1
        structs, rots = [], []
        for _ in range(preset["batch"]):
            g = groups[int(torch.multinomial(weights, 1, generator=gen))]
            ids = group_trajs[g]
            t = train[ids[int(torch.randint(len(ids), (1,), generator=gen))]]
            structs.append(t.structure(int(torch.randint(len(t), (1,), generator=gen))))
            rots.append(random_rotation(gen))
        b = make_batch(structs, rots)
        out = predict(model, b, create_graph=True)
        n_atoms = torch.tensor(b["natoms"], dtype=torch.float64)
        # losses in model units (forces / scale), energy per atom
        e_err = ((out["energy"].double() - b["energy"]) / n_atoms) / scale
        f_err = (out["forces"] - b["forces"]) / scale
        loss_e = (e_err ** 2).mean()
        loss_f = (f_err ** 2).mean()
        loss = e_weight * loss_e.float() + loss_f
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = float(torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0))
        opt.step()
        decay = min(0.995, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(decay).add_(pm.detach(), alpha=1 - decay)
        step += 1
        elapsed += time.time() - t0
        rec = {"step": step, "elapsed_s": round(elapsed, 1), "lr": lr, "loss": float(loss),
               "e_mae_meV_atom": float(e_err.abs().mean()) * scale * 1000,
               "f_rmse_meV_A": float(loss_f.sqrt()) * scale * 1000, "grad_norm": gnorm, "e_weight": e_weight}
        if step % (preset["eval_every"] * 10) == 0 or step == steps:
            t_val = time.time()
            ema.eval()
            v_e, v_f = errors(ema, val, val_frames)
            rec.update(val_e_mae_meV_atom=v_e * 1000, val_f_mae_meV_A=v_f * 1000, val_frames=len(val_frames),
                       val_seconds=round(time.time() - t_val, 1))
        log.write(json.dumps(rec) + "\n")
        log.flush()
        if step % 10 == 0 or "val_e_mae_meV_atom" in rec:
            print(json.dumps(rec), flush=True)
        if time.time() - t_last_save > 120:
            save()
            t_last_save = time.time()
    save()
    print(f"finished: {step} steps, {elapsed / 60:.1f} min of training", flush=True)


if __name__ == "__main__":
    main()
