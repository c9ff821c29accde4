// A seeded generator (mulberry32) shared by the demo, the tests and the
// benchmarks, so that inputs are the same on every run. Plain ES module with
// no imports: pages and Node both load it.

/** A seeded generator of floats in [0, 1) (mulberry32). */
export function mulberry32(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Maps a generator of floats in [0, 1) onto [-1, 1). */
export function toSigned(next) {
  return () => next() * 2 - 1;
}
