import { useMemo, useState } from 'react';
import { Button, Field, Input, Select, Text } from '@fluentui/react-components';
import { connectorPatch } from '../../../shared/apiSchemas';
import { TIME_OF_DAY, formatOffset, localToUtc, utcToLocal, zoneOffsetMinutes } from '../../../shared/scheduleTime';
import { Problem } from '../common';
import { StepHeading, useStepAction, useStepStyles, type StepProps } from './stepParts';

export const browserTimeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;

/** "India Standard Time", or the zone's id when the browser has no name for it. */
export function zoneName(timeZone: string, at: Date): string {
  return new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'long' }).formatToParts(at).find((p) => p.type === 'timeZoneName')?.value ?? timeZone;
}

/** Whether the zone's offset changes in the year of `at` (daylight-saving time). */
function hasDaylightSaving(timeZone: string, at: Date): boolean {
  const year = at.getUTCFullYear();
  return zoneOffsetMinutes(timeZone, new Date(Date.UTC(year, 0, 15))) !== zoneOffsetMinutes(timeZone, new Date(Date.UTC(year, 6, 15)));
}

/** "07:30 in Asia/Kolkata (India Standard Time, UTC+05:30 today)" for a stored UTC time. */
export function describeSchedule(scheduleUtc: string, timeZone: string, at: Date): string {
  return `${utcToLocal(scheduleUtc, timeZone, at)} in ${timeZone} (${zoneName(timeZone, at)}, ${formatOffset(zoneOffsetMinutes(timeZone, at))} today), ${scheduleUtc} UTC`;
}

/**
 * Step 5: when the daily import runs, as a time of day in the admin's time zone (the browser's,
 * or one picked from the IANA zones). The connector keeps it in UTC, converted with today's offset.
 */
export function ScheduleStep({ view, save }: StepProps) {
  const styles = useStepStyles();
  const now = useMemo(() => new Date(), []);
  const own = browserTimeZone();
  const zones = useMemo(() => [...new Set([...Intl.supportedValuesOf('timeZone'), own, 'UTC'])].sort(), [own]);
  const [zone, setZone] = useState(view.settings.scheduleTimeZone ?? own);
  const [time, setTime] = useState(utcToLocal(view.settings.scheduleUtc, view.settings.scheduleTimeZone ?? own, now));
  const [problem, setProblem] = useState<string>();
  const { busy, error, run } = useStepAction();

  const valid = TIME_OF_DAY.test(time.trim());
  const utc = valid ? localToUtc(time.trim(), zone, now) : undefined;
  const offset = formatOffset(zoneOffsetMinutes(zone, now));

  const submit = async () => {
    const checked = connectorPatch.safeParse({ scheduleUtc: utc, scheduleTimeZone: zone });
    if (!valid || !checked.success) return setProblem('Enter the time as HH:MM, 24-hour, such as 07:30.');
    setProblem(undefined);
    await run(() => save(checked.data));
  };

  return (
    <section className={styles.section} aria-labelledby="step-heading">
      <StepHeading step="schedule">The import runs once a day and covers everything TeleMessage archived since the last run. Choose when, in your time zone.</StepHeading>
      <Text>
        Your browser&apos;s time zone: <strong>{own}</strong> ({zoneName(own, now)}).
      </Text>
      <form
        className={styles.section}
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <Field className={styles.field} label="Time zone">
          <Select value={zone} onChange={(_e, d) => setZone(d.value)}>
            {zones.map((z) => (
              <option key={z} value={z}>
                {z}
              </option>
            ))}
          </Select>
        </Field>
        <Field className={styles.field} label="Time of day (24-hour, HH:MM)" validationMessage={problem} validationState={problem ? 'error' : 'none'}>
          <Input value={time} onChange={(_e, d) => setTime(d.value)} inputMode="numeric" maxLength={5} />
        </Field>
        <Text role="status">{utc ? `Runs daily at ${time.trim()} in ${zone} (${zoneName(zone, now)}, ${offset} today): ${utc} UTC.` : 'Enter the time as HH:MM to see when that is in UTC.'}</Text>
        {hasDaylightSaving(zone, now) && (
          <Text>
            The archiver keeps the time in UTC, converted with today&apos;s offset ({offset}). After a daylight-saving change the run stays at {utc ?? 'the same'} UTC, an hour earlier or later on the
            clock in {zone}; open this step again then to move it.
          </Text>
        )}
        {error !== undefined && <Problem error={error} />}
        <div className={styles.actions}>
          <Button appearance="primary" type="submit" disabled={busy}>
            Save and continue
          </Button>
        </div>
      </form>
    </section>
  );
}
