// Picked atoms and their measurement (position / distance / angle / dihedral, minimum image),
// with a button to follow the measurement over time in the plots.

import { CHEMICAL_SYMBOLS } from '../../io/elements';
import { cellFrame } from '../../geometry/cell';
import { measure, measurementLabel } from '../geometry/measure';
import { clearPicks, useWorkbench } from '../store';

let trackId = 0;

export function MeasurePanel() {
  const picks = useWorkbench((s) => s.picks);
  useWorkbench((s) => s.frameVersion); // live value while running
  const s = useWorkbench.getState();
  const frame = s.frame;
  const system = s.system;
  if (!system || !frame) return null;
  const cf = cellFrame(frame.cell, system.pbc);
  const m = measure(frame.positions, picks, cf);
  const sym = (i: number) => CHEMICAL_SYMBOLS[system.numbers[i]] ?? '?';
  const label = m ? measurementLabel(m, sym) : '';

  const track = () => {
    if (!m) return;
    const name = measurementLabel({ ...m, value: NaN }, sym).replace(/ = .*$/, '').replace(/ at .*$/, '');
    useWorkbench.setState((st) => ({
      tracked: [...st.tracked, { id: ++trackId, atoms: [...m.atoms], label: m.kind === 'position' ? `position |r| ${name}` : name, time_ps: [], values: [] }],
    }));
  };

  return (
    <div className="measure" data-testid="measure-panel">
      {picks.length === 0 ? (
        <span className="muted">Click atoms to measure (1: position, 2: distance, 3: angle, 4: dihedral).</span>
      ) : (
        <>
          <span data-testid="measurement" data-kind={m?.kind} data-value={m?.value}>{label}</span>
          <button onClick={track} data-testid="track-measurement">plot over time</button>
          <button onClick={clearPicks}>clear</button>
        </>
      )}
    </div>
  );
}
