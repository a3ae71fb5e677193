"""Times the PyTorch reference (energy + autograd forces) for `npm run bench`.

usage: /usr/bin/python3 bench/torch_bench.py MODEL_DIR SYSTEM.extxyz REPEATS
prints one JSON line: {"median_ms": ..., "energy": ..., "threads": ...}
"""
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "training"))

import ase.io  # noqa: E402
import torch  # noqa: E402
from scaip import batch_structures, load_model  # noqa: E402


def main() -> None:
    model_dir, system, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
    torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "1")))
    model = load_model(model_dir, dtype=torch.float32)
    atoms = ase.io.read(system)
    s = {
        "numbers": atoms.numbers.tolist(),
        "positions": atoms.positions.tolist(),
        "cell": atoms.cell.array.tolist() if atoms.pbc.any() else None,
        "pbc": atoms.pbc.tolist(),
        "charge": int(atoms.info.get("charge", 0)),
        "spin": int(atoms.info.get("spin", 1)),
    }
    b = batch_structures([s], dtype=torch.float32)
    times = []
    energy = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = model.compute(b["numbers"], b["pos"], b["cell"], b["pbc"], b["charge"], b["spin"], b["natoms"])
        energy = float(out["energy"].sum())
        times.append((time.perf_counter() - t0) * 1000)
    print(json.dumps({"median_ms": statistics.median(times), "energy": energy, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
