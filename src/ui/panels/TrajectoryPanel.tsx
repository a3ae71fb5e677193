// Observables of the open trajectory, from what the parser worker gathered while reading it: the file's energy
// and forces, temperature from its velocities, density, MSD (unwrapped), and g(r) over a chosen frame range
// (computed in the worker, reading only those frames).

import { useCallback, useState } from 'react';
import type uPlot from 'uplot';
import { CHEMICAL_SYMBOLS } from '../../io/elements';
import { maxRdfRadius } from '../geometry/rdf';
import { Plot, type PlotSpec } from '../plots/Plot';
import { computeTrajectoryRdf } from '../trajectory/actions';
import { frameTimePs, useTrajectory } from '../trajectory/state';
import type { TrajectorySeries } from '../trajectory/series';

type Column = keyof TrajectorySeries;

function xAxis(): { label: string; values: number[] } {
  const open = useTrajectory.getState().open;
  if (!open) return { label: 'frame', values: [] };
  const s = open.summary;
  return s.has.time
    ? { label: 't (ps)', values: s.series.time_fs.map((_, k) => frameTimePs(s, k)!) }
    : { label: 'frame', values: s.series.time_fs.map((_, k) => k + 1) };
}

function SeriesPlot({ title, yLabel, columns, testId }: { title: string; yLabel: string; columns: { key: Column; label: string; stroke: string }[]; testId: string }) {
  const version = useTrajectory((s) => s.version);
  const x = xAxis();
  const spec: PlotSpec = { title, xLabel: x.label, yLabel, series: columns.map((c) => ({ label: c.label, stroke: c.stroke })) };
  const data = useCallback((): uPlot.AlignedData => {
    const open = useTrajectory.getState().open;
    if (!open) return [[], ...columns.map(() => [])] as uPlot.AlignedData;
    return [xAxis().values, ...columns.map((c) => open.summary.series[c.key])] as uPlot.AlignedData;
    // columns are fixed per plot
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  return <Plot key={x.label} spec={spec} data={data} version={version} testId={testId} />;
}

const rdfData = (): uPlot.AlignedData => {
  const r = useTrajectory.getState().rdf;
  return r ? [r.r, r.g] : [[], []];
};

function RdfControls() {
  const open = useTrajectory((s) => s.open)!;
  const version = useTrajectory((s) => s.version);
  const label = useTrajectory((s) => s.rdf?.label ?? '');
  const s = open.summary;
  const [from, setFrom] = useState(1);
  const [to, setTo] = useState(s.frames);
  const [stride, setStride] = useState(Math.max(1, Math.floor(s.frames / 50)));
  const [pair, setPair] = useState('all');
  const [busy, setBusy] = useState(false);
  const elements = [...new Set(Array.from(s.first.numbers))].sort((a, b) => a - b);
  const pairs = ['all', ...elements.flatMap((a, i) => elements.slice(i).map((b) => `${CHEMICAL_SYMBOLS[a]}-${CHEMICAL_SYMBOLS[b]}`))];
  const compute = async () => {
    const [zA, zB] = pair === 'all' ? [0, 0] : pair.split('-').map((x) => CHEMICAL_SYMBOLS.indexOf(x));
    const a = Math.max(1, Math.min(from, s.frames)), b = Math.max(a, Math.min(to, s.frames));
    // The smallest cell of the range is not known without reading it: frame 1's half-width, less 5 % for NPT.
    const rMax = Math.min(8, 0.95 * maxRdfRadius(s.first.cell!));
    setBusy(true);
    await computeTrajectoryRdf({ from: a - 1, to: b - 1, stride: Math.max(1, stride), zA, zB, rMax, bins: 120 }, `${pair}, frames ${a}–${b} every ${Math.max(1, stride)}`);
    setBusy(false);
  };
  const rdfSpec: PlotSpec = { title: 'Radial distribution function (frame range)', xLabel: 'r (Å)', yLabel: 'g(r)', series: [{ label: 'g(r)', stroke: '#f6c343' }] };
  return (
    <>
      <div className="field-row small">
        <label>frames <input type="number" min={1} max={s.frames} value={from} data-testid="traj-rdf-from" onChange={(e) => setFrom(Number(e.target.value))} /></label>
        <label>to <input type="number" min={1} max={s.frames} value={to} data-testid="traj-rdf-to" onChange={(e) => setTo(Number(e.target.value))} /></label>
        <label>every <input type="number" min={1} value={stride} data-testid="traj-rdf-stride" onChange={(e) => setStride(Number(e.target.value))} /></label>
        <select value={pair} data-testid="traj-rdf-pair" onChange={(e) => setPair(e.target.value)}>{pairs.map((p) => <option key={p}>{p}</option>)}</select>
        <button data-testid="traj-rdf-compute" disabled={busy} onClick={() => void compute()}>{busy ? 'computing…' : 'g(r)'}</button>
      </div>
      <p className="muted small" data-testid="traj-rdf-label">{label}</p>
      <Plot spec={rdfSpec} data={rdfData} version={version} testId="traj-plot-rdf" />
    </>
  );
}

export function TrajectoryPanel() {
  const open = useTrajectory((s) => s.open);
  if (!open) return null;
  const { has, first } = open.summary;
  const periodic = !!first.cell && first.pbc.every(Boolean);
  return (
    <section className="panel plots" data-testid="trajectory-panel" key={open.id}>
      <h2>Trajectory observables ({open.name})</h2>
      {has.energy && <SeriesPlot title="Potential energy (file)" yLabel="E (eV)" columns={[{ key: 'energy', label: 'E', stroke: '#5aa9ff' }]} testId="traj-plot-energy" />}
      {has.forces && (
        <SeriesPlot title="Forces (file)" yLabel="|F| (eV/Å)"
          columns={[{ key: 'fmax', label: 'max |F|', stroke: '#ff9f43' }, { key: 'frms', label: 'RMS |F|', stroke: '#8fd694' }]} testId="traj-plot-forces" />
      )}
      {has.velocities && <SeriesPlot title="Temperature (file velocities, 3N dof)" yLabel="T (K)" columns={[{ key: 'temperature', label: 'T', stroke: '#ff7b54' }]} testId="traj-plot-temperature" />}
      {periodic && <SeriesPlot title="Density" yLabel="ρ (g/cm³)" columns={[{ key: 'density', label: 'ρ', stroke: '#c08bff' }]} testId="traj-plot-density" />}
      <SeriesPlot title="Mean squared displacement (unwrapped, from frame 1)" yLabel="MSD (Å²)" columns={[{ key: 'msd', label: 'MSD', stroke: '#4fd1c5' }]} testId="traj-plot-msd" />
      {periodic && <RdfControls />}
    </section>
  );
}
