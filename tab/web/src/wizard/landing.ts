import { useEffect, useState } from 'react';
import type { TabApiClient } from '../common';

/**
 * Where the tab opens when its address names no page: the setup while the connector is not set up
 * yet, else the imports. A named page (a bot card's link to a run, a reload) opens as it is.
 */
export function useLanding(api: TabApiClient): boolean {
  const [landed, setLanded] = useState(() => /^#\/./.test(location.hash));
  useEffect(() => {
    if (landed) return;
    // Teams opens the tab at its address, with no page named: the imports' prefetched read decides.
    api
      .peekConnector()
      .then(
        (view) => location.replace(view.settings.setupCompletedAt ? '#/imports' : '#/setup'),
        () => location.replace('#/imports'), // the imports page shows why (a 403 names who can grant access)
      )
      .finally(() => setLanded(true));
  }, [api, landed]);
  return landed;
}
