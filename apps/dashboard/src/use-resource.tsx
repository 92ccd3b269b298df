import { useCallback, useEffect, useRef, useState } from 'react';

export type Resource<T> =
  { state: 'loading' } | { state: 'error'; message: string } | { state: 'ready'; data: T };

/**
 * Loads once, then again on `reload()` (live events call it). A reload keeps showing the last data while it
 * runs, so the page does not flash; only the first load shows the loading state.
 */
export function useResource<T>(load: () => Promise<T>, deps: readonly unknown[]): [Resource<T>, () => void] {
  const [resource, setResource] = useState<Resource<T>>({ state: 'loading' });
  const generation = useRef(0);
  const stableLoad = useCallback(load, deps);
  const reload = useCallback(() => {
    const mine = ++generation.current;
    stableLoad().then(
      (data) => mine === generation.current && setResource({ state: 'ready', data }),
      (err: unknown) =>
        mine === generation.current &&
        setResource({ state: 'error', message: err instanceof Error ? err.message : String(err) }),
    );
  }, [stableLoad]);
  useEffect(() => {
    setResource({ state: 'loading' });
    reload();
  }, [reload]);
  return [resource, reload];
}
