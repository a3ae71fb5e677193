// Status bar: backend, step and time, speed, recoveries, and the latest notices.

import { dismissNotice, useWorkbench } from '../store';
import { TrajectoryStatus } from './TimelinePanel';

export function StatusBar() {
  const backend = useWorkbench((s) => s.backend);
  const detail = useWorkbench((s) => s.backendDetail);
  const engineDetail = useWorkbench((s) => s.engineDetail);
  const running = useWorkbench((s) => s.running);
  const busy = useWorkbench((s) => s.busy);
  const recoveries = useWorkbench((s) => s.recoveries);
  const step = useWorkbench((s) => s.frame?.step ?? 0);
  const time = useWorkbench((s) => s.frame?.time_fs ?? 0);
  const notices = useWorkbench((s) => s.notices);
  return (
    <footer className="statusbar">
      <div className="status-line">
        <span data-testid="backend" title={detail}>{backend ? (backend === 'webgpu' ? 'WebGPU' : 'CPU') : 'starting engine…'}</span>
        <span data-testid="engine-detail">{engineDetail}</span>
        <span data-testid="run-state">{busy ?? (running ? 'running' : 'paused')}</span>
        <span>step <b data-testid="step-count">{step}</b></span>
        <span>t = <b data-testid="sim-time">{(time / 1000).toFixed(4)}</b> ps</span>
        <TrajectoryStatus />
        {recoveries > 0 && <span data-testid="recoveries">recovered from device loss ×{recoveries}</span>}
      </div>
      <div className="notices">
        {notices.map((n) => (
          <div key={n.id} className={`notice ${n.level}`} data-testid={`notice-${n.level}`}>
            <span>{n.text}</span>
            <button aria-label="dismiss" onClick={() => dismissNotice(n.id)}>×</button>
          </div>
        ))}
      </div>
    </footer>
  );
}
