import { useEffect, useRef } from 'react';

/** What happened that makes a view's data old: a run ended, or a connector setting or the mapping changed. */
export type Change = 'runEnded' | 'settingsChanged';

// A plain event target: the views that show the same data are in different parts of the page.
const changes = new EventTarget();

/** Tells every view that shows what `change` touches to read it again. */
export function announce(change: Change): void {
  changes.dispatchEvent(new Event(change));
}

/** Calls `refetch` whenever one of `on` is announced, for as long as the view is on the page. */
export function useRefetchOn(on: readonly Change[], refetch: () => void): void {
  const latest = useRef(refetch);
  latest.current = refetch;
  const key = on.join(',');
  useEffect(() => {
    const listener = () => latest.current();
    const kinds = key.split(',') as Change[];
    for (const kind of kinds) changes.addEventListener(kind, listener);
    return () => kinds.forEach((kind) => changes.removeEventListener(kind, listener));
  }, [key]);
}
