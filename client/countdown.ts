/**
 * A one-line countdown on stderr while waiting for a person (device flow,
 * browser), redrawn in place; only on a terminal, so logs stay clean.
 */
export function countdown(label: string, deadlineMs: number): () => void {
  if (!process.stderr.isTTY) return () => {};
  const draw = () => {
    const left = Math.max(0, Math.round((deadlineMs - Date.now()) / 1000));
    process.stderr.write(`\r${label} ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')} left `);
  };
  draw();
  const timer = setInterval(draw, 1000);
  timer.unref();
  return () => {
    clearInterval(timer);
    process.stderr.write('\r\u001b[K');
  };
}
