// System panel: built-in systems, file picker (drop works anywhere), supercell, charge and spin.

import { useEffect, useRef, useState } from 'react';
import { CHEMICAL_SYMBOLS } from '../../io/elements';
import { loadBuiltin, loadStructureFile } from '../actions';
import type { BuiltinSystem } from '../system/builtins';
import { loadSystem } from '../system/admit';
import { supercell } from '../system/supercell';
import { noteSupercell } from '../session/origin';
import { notify, useWorkbench } from '../store';

function formula(numbers: Int32Array): string {
  const counts = new Map<number, number>();
  for (const z of numbers) counts.set(z, (counts.get(z) ?? 0) + 1);
  return [...counts].sort((a, b) => a[0] - b[0]).map(([z, c]) => `${CHEMICAL_SYMBOLS[z]}${c > 1 ? c : ''}`).join('');
}

export function SystemPanel({ builtins }: { builtins: BuiltinSystem[] }) {
  const system = useWorkbench((s) => s.system);
  const name = useWorkbench((s) => s.systemName);
  const error = useWorkbench((s) => s.systemError);
  const warnings = useWorkbench((s) => s.systemWarnings);
  const input = useRef<HTMLInputElement>(null);
  const [reps, setReps] = useState<[number, number, number]>([2, 2, 2]);
  const [charge, setCharge] = useState(0);
  const [spin, setSpin] = useState(1);
  useEffect(() => {
    if (system) {
      setCharge(system.charge);
      setSpin(system.spin);
    }
  }, [system]);

  const replicate = () => {
    if (!system) return;
    try {
      if (loadSystem(supercell(system, ...reps), `${name} ${reps.join('×')}`)) noteSupercell(reps);
    } catch (e) {
      notify('error', (e as Error).message);
    }
  };
  const applyChargeSpin = () => {
    if (!system) return;
    if (!Number.isInteger(charge) || !Number.isInteger(spin) || spin < 1) return notify('error', 'charge must be a whole number and spin multiplicity a whole number ≥ 1');
    // Editing the charge or spin of the system on screen keeps the model: a charge the model has no embedding for
    // is refused with the current system kept (swapping the force field under a system the user is editing, e.g.
    // to the organics model for charged liquid water, would answer with a model never trained for it). Opening a
    // structure (file, built-in, link) is where the workbench picks the model that fits.
    loadSystem({ ...system, charge, spin }, name);
  };

  return (
    <section className="panel" data-testid="system-panel">
      <h2>System</h2>
      <label className="field">
        <span>built-in</span>
        <select
          value=""
          data-testid="builtin-select"
          onChange={(e) => {
            const b = builtins[Number(e.target.value)];
            if (b) void loadBuiltin(b);
          }}
        >
          <option value="">{builtins.length ? 'choose…' : 'none found'}</option>
          {builtins.map((b, i) => <option key={i} value={i} title={b.description}>{b.name}</option>)}
        </select>
      </label>
      <div className="buttons">
        <button onClick={() => input.current?.click()}>Open XYZ / extXYZ / PDB…</button>
      </div>
      <input
        ref={input}
        type="file"
        accept=".xyz,.extxyz,.pdb,.ent"
        hidden
        data-testid="structure-input"
        onChange={(e) => {
          const f = e.target.files?.[0];
          e.target.value = '';
          if (f) void loadStructureFile(f, f.name);
        }}
      />
      {error && <p className="error-text" role="alert" data-testid="system-error">{error}</p>}
      {warnings.length > 0 && (
        <ul className="warning-text" data-testid="system-warnings">{warnings.map((w) => <li key={w}>{w}</li>)}</ul>
      )}
      {system && (
        <div data-testid="system-info">
          <p>
            <strong data-testid="system-name">{name}</strong>: <span data-testid="system-atoms">{system.numbers.length}</span> atoms, {formula(system.numbers)}
          </p>
          <p className="muted small">
            {system.cell ? `cell ${[0, 4, 8].map((k) => system.cell![k].toFixed(2)).join(' × ')} Å, pbc ${system.pbc.map((p) => (p ? 'T' : 'F')).join('')}` : 'molecule in vacuum'}
          </p>
          {system.cell && (
            <div className="field-row">
              {[0, 1, 2].map((d) => (
                <input key={d} type="number" min={1} step={1} className="rep" value={reps[d]}
                  onChange={(e) => setReps((r) => r.map((v, k) => (k === d ? Math.max(1, Math.round(Number(e.target.value) || 1)) : v)) as [number, number, number])} />
              ))}
              <button onClick={replicate}>supercell</button>
            </div>
          )}
          <div className="field-row">
            <label className="field small"><span>charge</span><input type="number" step={1} value={charge} data-testid="charge" onChange={(e) => setCharge(Number(e.target.value))} /></label>
            <label className="field small"><span>spin (2S+1)</span><input type="number" step={1} min={1} value={spin} data-testid="spin" onChange={(e) => setSpin(Number(e.target.value))} /></label>
            <button data-testid="apply-charge-spin" onClick={applyChargeSpin}>apply</button>
          </div>
        </div>
      )}
    </section>
  );
}
