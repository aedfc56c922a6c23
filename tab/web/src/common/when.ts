// One formatter for every date the page shows: Date.toLocaleString makes a new one each call, which
// costs more than the rest of a row's render when the runs table first comes up.
const DATE_TIME = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });

/** An API date as the admin's own clock and language show it, or a dash when there is none. */
export const when = (iso?: string) => (iso ? DATE_TIME.format(new Date(iso)) : '—');
