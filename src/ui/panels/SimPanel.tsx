// Simulation controls: ensemble, thermostat/barostat settings, time step, steps per frame, seed,
// force provider; run / pause / step / reset / minimize; live speed.

import { engine, sendParams } from '../engine/client';
import { recheckCurrentSystem } from '../system/admit';
import { setParams, useWorkbench, type Ensemble, type SimParams } from '../store';
import { defaultTimeStep } from '../../md/setup';

const ENSEMBLES: [Ensemble, string][] = [
  ['nve', 'NVE (velocity Verlet)'],
  ['nvt-langevin', 'NVT Langevin (BAOAB)'],
  ['nvt-bussi', 'NVT Bussi (CSVR)'],
  ['nvt-nhc', 'NVT Nosé–Hoover chain'],
  ['npt', 'NPT (Monte Carlo barostat)'],
];

function NumberField(props: { label: string; value: number; step?: number; min?: number; testId?: string; disabled?: boolean; onChange: (v: number) => void }) {
  return (
    <label className="field">
      <span>{props.label}</span>
      <input
        type="number"
        value={Number.isFinite(props.value) ? props.value : ''}
        step={props.step ?? 'any'}
        min={props.min}
        disabled={props.disabled}
        data-testid={props.testId}
        onChange={(e) => {
          const v = Number(e.target.value);
          if (e.target.value !== '' && Number.isFinite(v)) props.onChange(v);
        }}
      />
    </label>
  );
}

export function SimPanel() {
  const p = useWorkbench((s) => s.params);
  const running = useWorkbench((s) => s.running);
  const busy = useWorkbench((s) => s.busy);
  const system = useWorkbench((s) => s.system);
  const speed = useWorkbench((s) => s.speed);
  const modelReady = useWorkbench((s) => s.modelPhase === 'ready');
  const blocked = useWorkbench((s) => s.systemBlocked);
  const canRun = !!system && !busy && !blocked && (p.provider === 'lj' || modelReady);

  const update = (q: Partial<SimParams>) => {
    setParams(q);
    // Other forces mean another run: start it afresh from the system (plots and trajectory restart too).
    if (q.provider !== undefined && q.provider !== p.provider && system) recheckCurrentSystem(true);
    else sendParams();
  };
  const autoDt = system ? defaultTimeStep(system.numbers) : 0.5;
  const dt = p.timestepAuto ? autoDt : p.timestep;
  const thermostat = p.ensemble !== 'nve';

  return (
    <section className="panel" data-testid="sim-panel">
      <h2>Simulation</h2>
      <label className="field">
        <span>forces</span>
        <select value={p.provider} data-testid="provider" onChange={(e) => update({ provider: e.target.value as SimParams['provider'] })}>
          <option value="allscaip">AllScAIP model</option>
          <option value="lj">Lennard-Jones (baseline)</option>
        </select>
      </label>
      <label className="field">
        <span>ensemble</span>
        <select value={p.ensemble} data-testid="ensemble" onChange={(e) => update({ ensemble: e.target.value as Ensemble })}>
          {ENSEMBLES.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
        </select>
      </label>
      <NumberField label="temperature (K)" value={p.temperature} min={0} disabled={!thermostat && false} onChange={(v) => update({ temperature: v })} />
      {p.ensemble === 'npt' && <NumberField label="pressure (bar)" value={p.pressure} onChange={(v) => update({ pressure: v })} />}
      {p.ensemble === 'nvt-langevin' && <NumberField label="friction (1/fs)" value={p.friction} min={0} onChange={(v) => update({ friction: v })} />}
      {(p.ensemble === 'nvt-bussi' || p.ensemble === 'nvt-nhc' || p.ensemble === 'npt') && (
        <NumberField label="τ (fs)" value={p.tau} min={1} onChange={(v) => update({ tau: v })} />
      )}
      <div className="field-row">
        <NumberField label="time step (fs)" value={dt} min={0.01} step={0.1} disabled={p.timestepAuto} testId="timestep" onChange={(v) => update({ timestep: v })} />
        <label className="check" title="≤ 0.5 fs when H is present, else 1–2 fs by the lightest element">
          <input type="checkbox" checked={p.timestepAuto} onChange={(e) => update({ timestepAuto: e.target.checked, timestep: dt })} /> by element
        </label>
      </div>
      <NumberField label="steps per frame" value={p.stepsPerFrame} min={1} step={1} testId="steps-per-frame" onChange={(v) => update({ stepsPerFrame: Math.max(1, Math.round(v)) })} />
      <NumberField label="seed" value={p.seed} step={1} onChange={(v) => update({ seed: Math.round(v) })} />
      <div className="buttons">
        {running ? (
          <button data-testid="pause" onClick={engine.pause}>⏸ Pause</button>
        ) : (
          <button data-testid="run" className="primary" disabled={!canRun} onClick={engine.run}>▶ Run</button>
        )}
        <button data-testid="step" disabled={!canRun || running} onClick={() => engine.step(p.stepsPerFrame)}>Step</button>
        <button data-testid="minimize" disabled={!canRun || running} onClick={() => engine.minimize()}>Minimize</button>
        <button data-testid="reset" disabled={!system} onClick={() => recheckCurrentSystem(true)}>Reset</button>
      </div>
      {busy && <p className="muted">{busy}…</p>}
      {!modelReady && p.provider === 'allscaip' && <p className="muted">Load a model (or pick Lennard-Jones) to run.</p>}
      <p className="speed" data-testid="speed">
        {speed
          ? `${speed.stepsPerSecond.toFixed(1)} steps/s · ${formatRate(speed.atomStepsPerSecond)} atom-steps/s · ${speed.nsPerDay.toPrecision(3)} ns/day`
          : '—'}
      </p>
    </section>
  );
}

function formatRate(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)} k`;
  return x.toFixed(0);
}
