// Formats the results of bench.js as markdown (used by the page and run.mjs).

const NAMES = { kiln: 'kiln', tfjs: 'TF.js', jax: 'jax-js' };

function ms(t) {
  return `${t.toFixed(t < 10 ? 2 : t < 100 ? 1 : 0)} ms`;
}

const valid = (cell) => cell?.warm_ms !== undefined && cell.check?.ok;

function time(cell, key) {
  if (!cell) return '';
  if (cell.note) return cell.note;
  if (cell[key] === undefined) return 'error';
  return cell.check?.ok ? ms(cell[key]) : `${ms(cell[key])} (wrong result)`;
}

// Peer time over kiln time: above 1 means kiln is faster.
function ratio(peer, kiln) {
  return valid(peer) && valid(kiln) ? `${(peer.warm_ms / kiln.warm_ms).toFixed(2)}×` : '';
}

export function markdownTable(results) {
  const libs = Object.keys(results.libs);
  const peers = libs.filter((l) => l !== 'kiln');
  const hasKiln = libs.includes('kiln');
  const header = [
    'benchmark',
    ...libs.map((l) => `${NAMES[l]} warm`),
    ...(hasKiln ? peers.map((l) => `${NAMES[l]} / kiln`) : []),
    ...libs.map((l) => `${NAMES[l]} first call`),
  ];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const { label, cells } of results.benchmarks) {
    const row = [
      label,
      ...libs.map((l) => time(cells[l], 'warm_ms')),
      ...(hasKiln ? peers.map((l) => ratio(cells[l], cells.kiln)) : []),
      ...libs.map((l) => time(cells[l], 'first_ms')),
    ];
    lines.push(`| ${row.join(' | ')} |`);
  }

  const notes = [];
  for (const [name, lib] of Object.entries(results.libs)) {
    notes.push(lib.error
      ? `- ${NAMES[name]}: failed to load: ${lib.error}`
      : `- ${NAMES[name]} ${lib.version ?? ''}: ${lib.device}`);
  }
  for (const { label, cells } of results.benchmarks) {
    for (const [name, cell] of Object.entries(cells)) {
      if (cell.error) notes.push(`- ${label}, ${NAMES[name]}: ${cell.error}`);
      if (cell.check && !cell.check.ok) {
        notes.push(`- ${label}, ${NAMES[name]}: result off by ${cell.check.error.toExponential(2)}`
          + `${cell.check.reason ? ` (${cell.check.reason})` : ''}`);
      }
    }
  }
  const { adapter } = results;
  const adapterText = adapter
    ? [adapter.vendor, adapter.architecture, adapter.description].filter(Boolean).join(' ')
      + (adapter.isFallbackAdapter ? ' (fallback adapter)' : '')
    : 'none';
  return [
    `WebGPU adapter: ${adapterText}. Warm: median of ${results.config.minRuns} to `
      + `${results.config.maxRuns} calls; every call reads its results back.`,
    '',
    ...lines,
    '',
    ...notes,
  ].join('\n');
}
