"""ASE calculator over the PyTorch AllScAIP model (energy, forces, stress)."""
import numpy as np
import torch
from ase.calculators.calculator import Calculator, all_changes
from ase.stress import full_3x3_to_voigt_6_stress

from .io import load_model
from .model import batch_structures


class ScaipCalculator(Calculator):
    """ASE Calculator for a scaip-web model directory (model.json + weights.safetensors).

    Charge and spin multiplicity come from `atoms.info['charge']` / `atoms.info['spin']`, falling back
    to the constructor arguments (default 0 and 1, as fairchem's OMol task). Stress (ASE sign, eV/Å^3)
    is given for periodic cells with conservative models.
    """

    implemented_properties = ["energy", "free_energy", "forces", "stress"]

    def __init__(self, model=None, model_path=None, dtype=torch.float64, device="cpu", charge=0, spin=1, **kwargs):
        super().__init__(**kwargs)
        if (model is None) == (model_path is None):
            raise ValueError("ScaipCalculator: give exactly one of model= or model_path=")
        self.model = model if model is not None else load_model(model_path, dtype=dtype)
        self.dtype = dtype
        self.device = torch.device(device)
        self.model.to(device=self.device, dtype=dtype)
        self.default_charge = charge
        self.default_spin = spin

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        atoms = self.atoms
        periodic = bool(atoms.pbc.any())
        structure = {
            "numbers": atoms.numbers,
            "positions": atoms.positions,
            "cell": np.asarray(atoms.cell[:]) if periodic else None,
            "pbc": atoms.pbc.tolist(),
            "charge": int(atoms.info.get("charge", self.default_charge)),
            "spin": int(atoms.info.get("spin", self.default_spin)),
        }
        b = batch_structures([structure], dtype=self.dtype)
        b = {k: (v.to(self.device) if torch.is_tensor(v) else v) for k, v in b.items()}
        want_stress = "stress" in properties and periodic
        out = self.model.compute(b["numbers"], b["pos"], b["cell"], b["pbc"], b["charge"], b["spin"], b["natoms"],
                                 forces=True, stress=want_stress)
        energy = float(out["energy"][0])
        self.results["energy"] = energy
        self.results["free_energy"] = energy
        self.results["forces"] = out["forces"].detach().cpu().numpy().astype(np.float64)
        if want_stress and "stress" in out:
            self.results["stress"] = full_3x3_to_voigt_6_stress(out["stress"][0].detach().cpu().numpy())
