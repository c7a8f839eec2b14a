/**
 * Loaded into the bench's server processes with `--expose-gc --import bench/lib/gc-on-signal.ts`:
 * SIGUSR2 runs a full garbage collection, so the idle-memory scenario reads heap and RSS after a
 * forced gc. Does nothing when gc is not exposed.
 */
const gc = (globalThis as { gc?: () => void }).gc;
if (gc) {
  process.on('SIGUSR2', () => {
    gc();
    gc();
  });
}
