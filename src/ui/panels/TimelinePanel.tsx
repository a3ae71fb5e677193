// The trajectory timeline under the viewer: progress while a file is indexed, then scrubber, play/pause, frame
// rate and stride, the frame shown, and "continue MD from this frame". Also the frame readout for the status bar.

import { continueFromFrame, viewTrajectory } from '../trajectory/actions';
import { pause, play, setFps, showFrame } from '../trajectory/playback';
import { frameTimePs, useTrajectory } from '../trajectory/state';

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(bytes < 2 ** 20 ? 2 : 1)} MiB`;
}

function Progress() {
  const opening = useTrajectory((s) => s.opening);
  if (!opening) return null;
  return (
    <div className="timeline-progress" data-testid="traj-opening">
      <span>reading {opening.fileName}</span>
      <progress max={1} value={opening.fraction} data-testid="traj-progress" />
      <span className="muted">{(100 * opening.fraction).toFixed(0)} %{opening.frames ? `, ${opening.frames} frames` : ''}</span>
    </div>
  );
}

export function TimelinePanel() {
  const open = useTrajectory((s) => s.open);
  const index = useTrajectory((s) => s.index);
  const playing = useTrajectory((s) => s.playing);
  const fps = useTrajectory((s) => s.fps);
  const stride = useTrajectory((s) => s.stride);
  const attached = useTrajectory((s) => s.attached);
  const refusal = useTrajectory((s) => s.refusal);
  if (!open) {
    return (
      <section className="timeline" data-testid="timeline">
        <Progress />
        {refusal && <p className="warning-text small" data-testid="traj-refusal">{refusal}</p>}
      </section>
    );
  }
  const s = open.summary;
  const last = s.frames - 1;
  const has = [s.has.energy && 'energy', s.has.forces && 'forces', s.has.velocities && 'velocities', s.has.time && 'time'].filter(Boolean).join(', ');
  return (
    <section className="timeline" data-testid="timeline">
      <Progress />
      <div className="timeline-row">
        <button data-testid="traj-play" disabled={!attached} onClick={() => (playing ? pause() : play())}>{playing ? '⏸' : '▶'}</button>
        <input
          type="range" min={0} max={last} step={1} value={index} disabled={!attached}
          className="timeline-scrubber" data-testid="traj-scrubber" aria-label="frame"
          onChange={(e) => { pause(); void showFrame(Number(e.target.value)); }}
        />
        <label className="small">frame <input type="number" min={1} max={s.frames} value={index + 1} disabled={!attached} data-testid="traj-frame-input"
          onChange={(e) => { pause(); void showFrame(Number(e.target.value) - 1); }} /> / <span data-testid="traj-frames">{s.frames}</span></label>
        <label className="small">fps <input type="number" min={1} max={60} value={fps} data-testid="traj-fps" onChange={(e) => setFps(Number(e.target.value) || 1)} /></label>
        <label className="small">step <input type="number" min={1} max={Math.max(1, last)} value={stride} data-testid="traj-stride"
          onChange={(e) => useTrajectory.setState({ stride: Math.max(1, Math.round(Number(e.target.value) || 1)) })} /></label>
        <button data-testid="traj-continue" title="hand this frame (with the file's velocities, if any) to the MD engine"
          onClick={() => void continueFromFrame(index)}>continue MD from this frame</button>
      </div>
      <p className="muted small" data-testid="traj-info">
        {open.name}: {s.frames} frames of {s.atoms} atoms, {mib(s.bytes)} ({s.format === 'xyz' ? 'XYZ' : 'PDB'}{s.indexed ? ', read frame by frame' : ''});
        {' '}{s.has.cells === 'per-frame' ? 'cell changes per frame' : s.has.cells === 'fixed' ? 'fixed cell' : 'no cell'}{has ? `; has ${has}` : ''}
      </p>
      {!attached && (
        <p className="small" data-testid="traj-detached">
          The viewer shows the MD run, not the file. <button data-testid="traj-view" onClick={viewTrajectory}>view the trajectory again</button>
        </p>
      )}
    </section>
  );
}

/** "frame k / N, t = … ps" in the status bar while a trajectory is shown. */
export function TrajectoryStatus() {
  const open = useTrajectory((s) => s.open);
  const index = useTrajectory((s) => s.index);
  const attached = useTrajectory((s) => s.attached);
  if (!open || !attached) return null;
  const t = frameTimePs(open.summary, index);
  return (
    <span data-testid="traj-status">
      frame <b data-testid="traj-status-frame">{index + 1}</b> / {open.summary.frames}
      {t !== null && <>, file t = <b data-testid="traj-status-time">{t.toFixed(4)}</b> ps</>}
    </span>
  );
}
