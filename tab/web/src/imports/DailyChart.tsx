import { useContext, useEffect, useId, useState } from 'react';
import { Card, CardHeader, Spinner, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, Title3, makeStyles, tokens } from '@fluentui/react-components';
import { DataVizPalette, VerticalStackedBarChart, getColorFromToken, type VerticalStackedChartProps } from '@fluentui/react-charts';
import { Problem, ThemeName, useRefetchOn, type DailyCounts, type TabApiClient } from '../common';

const useStyles = makeStyles({
  chart: { width: '100%', minHeight: '320px' },
  details: { marginTop: tokens.spacingVerticalS },
});

// The importer's item kinds, as the chart names them.
const KINDS: { kind: string; label: string; color: string }[] = [
  { kind: 'sms', label: 'SMS', color: DataVizPalette.color1 },
  { kind: 'mms', label: 'MMS', color: DataVizPalette.color2 },
  { kind: 'chat', label: 'Chat', color: DataVizPalette.color3 },
  { kind: 'voiceRecording', label: 'Voice recordings', color: DataVizPalette.color4 },
  { kind: 'voiceCallLog', label: 'Call logs', color: DataVizPalette.color5 },
];
const FAILED = { label: 'Failed', color: DataVizPalette.error };
const NOT_IMPORTED = { label: 'Not imported', color: DataVizPalette.disabled };

/** One day's row: archived items of each kind (partial ones included), then failed and not imported, all kinds together. */
export interface DayRow {
  day: string;
  archived: Record<string, number>;
  failed: number;
  notImported: number;
}

export function dayRows(days: DailyCounts[]): DayRow[] {
  return days.map((d) => {
    const archived: Record<string, number> = {};
    for (const { kind } of KINDS) archived[kind] = (d.kinds[kind]?.imported ?? 0) + (d.kinds[kind]?.partial ?? 0);
    const all = Object.values(d.kinds);
    return { day: d.day, archived, failed: all.reduce((n, o) => n + o.failed, 0), notImported: all.reduce((n, o) => n + o.notImported, 0) };
  });
}

const shortDay = (day: string) => day.slice(5);

/**
 * Items per UTC archive day over the last 30 days, stacked by kind with the failed and not
 * imported ones on top: a gap or a spike shows at a glance. The table below says the same in numbers.
 */
export function DailyChart({ api, refresh }: { api: TabApiClient; refresh?: unknown }) {
  const styles = useStyles();
  const dark = useContext(ThemeName) !== 'default';
  const tableId = useId();
  const [days, setDays] = useState<DayRow[]>();
  const [error, setError] = useState<unknown>();
  useEffect(() => void api.dailyStats().then((r) => setDays(dayRows(r.days)), setError), [api, refresh]);
  useRefetchOn(['runEnded'], () => void api.dailyStats().then((r) => setDays(dayRows(r.days)), setError));

  const color = (token: string) => getColorFromToken(token, dark);
  const data: VerticalStackedChartProps[] = (days ?? []).map((d) => ({
    xAxisPoint: shortDay(d.day),
    xAxisCalloutData: d.day,
    chartData: [
      ...KINDS.map((k) => ({ legend: k.label, data: d.archived[k.kind], color: color(k.color) })),
      { legend: FAILED.label, data: d.failed, color: color(FAILED.color) },
      { legend: NOT_IMPORTED.label, data: d.notImported, color: color(NOT_IMPORTED.color) },
    ],
  }));
  const first = days?.[0]?.day;
  const last = days?.at(-1)?.day;
  const title = `Items archived per day, ${first ?? ''} to ${last ?? ''} (UTC), by kind, with failed and not imported`;

  return (
    <Card>
      <CardHeader
        header={<Title3 as="h2">Last 30 days</Title3>}
        description={<Text>Items by the UTC day TeleMessage archived them, as they stand after the latest run: each item once, whatever number of mailboxes it went to.</Text>}
      />
      {error !== undefined && <Problem error={error} />}
      {!days && error === undefined && <Spinner label="Loading the last 30 days" />}
      {days && (
        <>
          <figure role="figure" aria-label={title} aria-describedby={tableId} className={styles.chart} style={{ margin: 0 }}>
            <VerticalStackedBarChart data={data} chartTitle={title} height={320} barWidth="auto" maxBarWidth={18} yAxisTitle="Items" hideLabels isCalloutForStack />
          </figure>
          <details className={styles.details}>
            <summary>The same numbers as a table</summary>
            <Table id={tableId} aria-label="Items per day" size="small">
              <TableHeader>
                <TableRow>
                  <TableHeaderCell>Day (UTC)</TableHeaderCell>
                  {KINDS.map((k) => (
                    <TableHeaderCell key={k.kind}>{k.label}</TableHeaderCell>
                  ))}
                  <TableHeaderCell>{FAILED.label}</TableHeaderCell>
                  <TableHeaderCell>{NOT_IMPORTED.label}</TableHeaderCell>
                </TableRow>
              </TableHeader>
              <TableBody>
                {days.map((d) => (
                  <TableRow key={d.day}>
                    <TableCell>{d.day}</TableCell>
                    {KINDS.map((k) => (
                      <TableCell key={k.kind}>{d.archived[k.kind]}</TableCell>
                    ))}
                    <TableCell>{d.failed}</TableCell>
                    <TableCell>{d.notImported}</TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </details>
        </>
      )}
    </Card>
  );
}
