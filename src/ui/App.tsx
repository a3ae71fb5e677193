// Minimal page until the workbench UI lands: shows whether WebGPU is present.
export function App() {
  const hasWebGPU = typeof navigator !== 'undefined' && 'gpu' in navigator;
  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', padding: 24 }}>
      <h1>scaip-web</h1>
      <p>AllScAIP molecular dynamics in the browser.</p>
      <p data-testid="webgpu-status">
        {hasWebGPU ? 'WebGPU available' : 'WebGPU not available: the CPU fallback will be used'}
      </p>
    </main>
  );
}
