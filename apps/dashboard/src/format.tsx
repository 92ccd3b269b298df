export function when(iso: string | null): string {
  return iso ? new Date(iso).toLocaleString() : '—';
}

export function seconds(fromIso: string, toIso: string | null): string {
  if (!toIso) return '—';
  return `${((Date.parse(toIso) - Date.parse(fromIso)) / 1000).toFixed(1)} s`;
}

export function num(v: number | null | undefined, digits = 4): string {
  return v === null || v === undefined ? '—' : v.toFixed(digits);
}
