// The pull tool's controls in the viewer toolbar: the on/off switch, the spring constant (eV/Å²) and, while the
// tool is on, a chip that says so and what the spring is doing.

import { useState } from 'react';
import { CHEMICAL_SYMBOLS } from '../../io/elements';
import { useWorkbench } from '../store';
import { setPullStiffness, setPullTool } from './pullTool';

/** Spring stretch (Å) and force (eV/Å) on the pressed atom at the last frame. */
function springNow(): { stretch: number; force: number } | null {
  const s = useWorkbench.getState();
  const a = s.steering.active, f = s.frame;
  if (!a || !f) return null;
  const d = [0, 1, 2].map((k) => a.target[k] - f.positions[3 * a.pressed + k]);
  const stretch = Math.hypot(d[0], d[1], d[2]);
  return { stretch, force: s.steering.stiffness * stretch };
}

export function PullControls() {
  const steering = useWorkbench((s) => s.steering);
  useWorkbench((s) => s.frameVersion);
  const system = useWorkbench((s) => s.system);
  const work = useWorkbench((s) => (s.thermo.pullWork.length ? s.thermo.pullWork[s.thermo.pullWork.length - 1] : 0));
  const [draft, setDraft] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const a = steering.active;
  const spring = springNow();
  const label = a && system ? `${CHEMICAL_SYMBOLS[system.numbers[a.pressed]]}${a.pressed}${a.atoms.length > 1 ? ` + ${a.atoms.length - 1} more` : ''}` : '';

  const commit = (text: string) => {
    try {
      setPullStiffness(text.trim() === '' ? NaN : Number(text));
      setError(null);
      setDraft(null);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <>
      <label title="press on an atom and drag to pull it with a spring while MD runs; picked atoms move as a group">
        <input type="checkbox" data-testid="pull-tool" checked={steering.tool} onChange={(e) => setPullTool(e.target.checked)} /> pull tool
      </label>
      <label className="pull-stiffness" title="spring constant of the pull, eV/Å²">
        k <input type="text" inputMode="decimal" size={5} data-testid="pull-stiffness" value={draft ?? String(steering.stiffness)}
          onChange={(e) => setDraft(e.target.value)} onBlur={(e) => commit(e.target.value)}
          onKeyDown={(e) => { if (e.key === 'Enter') commit((e.target as HTMLInputElement).value); }} /> eV/Å²
      </label>
      {error && <span className="pull-error" role="alert" data-testid="pull-error">{error}</span>}
      {steering.tool && (
        <span className={`pull-chip${a ? ' pulling' : ''}`} role="status" data-testid="pull-chip" data-pulling={a ? 'true' : 'false'}>
          {a
            ? `PULLING ${label}: spring ${spring ? spring.stretch.toFixed(2) : '?'} Å, ${spring ? spring.force.toFixed(2) : '?'} eV/Å, W_pull ${work.toFixed(4)} eV`
            : `PULL TOOL ON: drag an atom (k = ${steering.stiffness} eV/Å², W_pull ${work.toFixed(4)} eV)`}
        </span>
      )}
    </>
  );
}
