/** Reading Prometheus text exposition: counters summed over labels, and quantiles from histogram buckets (linear within a bucket, like histogram_quantile). */
export function histogramQuantile(metricsText: string, name: string, q: number, label = ''): number | undefined {
  const buckets: { le: number; count: number }[] = [];
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith(`${name}_bucket{`) || (label && !line.includes(label))) continue;
    const m = /le="([^"]+)".*\} (\d+(?:\.\d+)?)$/.exec(line);
    if (m) buckets.push({ le: m[1] === '+Inf' ? Infinity : Number(m[1]), count: Number(m[2]) });
  }
  buckets.sort((a, b) => a.le - b.le);
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return undefined;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return prevLe;
      return prevLe + ((b.le - prevLe) * (rank - prevCount)) / Math.max(1, b.count - prevCount);
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return undefined;
}

export function counterValue(metricsText: string, name: string): number {
  let sum = 0;
  for (const m of metricsText.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+(?:\\.\\d+)?(?:e[+-]?\\d+)?)$`, 'gm'))) sum += Number(m[1]);
  return sum;
}
