// Long loops let the browser paint and handle input. On WebGPU each read
// waits for the GPU and so yields; on the CPU backend a read resolves at
// once, so a loop would hold the page until it ends.

let last = performance.now();

/** Yields to the browser when a frame's worth of time has passed since the last yield. */
export async function breathe() {
  if (performance.now() - last < 16) return;
  await new Promise((resolve) => setTimeout(resolve, 0));
  last = performance.now();
}
