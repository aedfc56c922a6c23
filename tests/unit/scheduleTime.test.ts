import { formatOffset, isTimeZone, localToUtc, utcToLocal, zoneOffsetMinutes } from '../../tab/shared/scheduleTime';
import { resumeStep, unfinishedSteps } from '../../tab/shared/setupProgress';

// The schedule step's conversion and the setup's progress, which the page and the API share.
const WINTER = new Date('2026-01-15T12:00:00Z');
const SUMMER = new Date('2026-07-15T12:00:00Z');

describe('the schedule between a time zone and UTC', () => {
  it("converts with the zone's offset of the day, daylight-saving time included", () => {
    expect(localToUtc('07:30', 'Asia/Kolkata', WINTER)).toBe('02:00');
    expect(localToUtc('03:00', 'Europe/Paris', WINTER)).toBe('02:00');
    expect(localToUtc('03:00', 'Europe/Paris', SUMMER)).toBe('01:00');
    expect(localToUtc('21:00', 'America/New_York', WINTER)).toBe('02:00');
    expect(localToUtc('00:30', 'America/St_Johns', SUMMER)).toBe('03:00');
    expect(localToUtc('01:00', 'Asia/Tokyo', SUMMER)).toBe('16:00');
    expect(utcToLocal('16:00', 'Asia/Tokyo', SUMMER)).toBe('01:00');
    expect(utcToLocal('02:00', 'UTC', SUMMER)).toBe('02:00');
  });

  it('reads offsets and zones', () => {
    expect(zoneOffsetMinutes('Asia/Kolkata', new Date('2026-03-08T06:59:59.999Z'))).toBe(330);
    expect(zoneOffsetMinutes('America/New_York', SUMMER)).toBe(-240);
    expect([formatOffset(330), formatOffset(-210), formatOffset(0)]).toEqual(['UTC+05:30', 'UTC−03:30', 'UTC']);
    expect(isTimeZone('Europe/Paris')).toBe(true);
    expect(isTimeZone('Mars/Olympus_Mons')).toBe(false);
  });
});

describe('the setup progress', () => {
  it('opens on the first step not saved, the review once all are, and names what is left', () => {
    expect(resumeStep({ telemessageConfigured: false })).toBe('terms');
    expect(resumeStep({ termsAcceptedAt: 'x', telemessageConfigured: true })).toBe('mapping');
    expect(unfinishedSteps({ termsAcceptedAt: 'x', telemessageConfigured: true, consentedAt: 'x' })).toEqual(['mapping', 'schedule']);
    const done = { termsAcceptedAt: 'x', telemessageConfigured: true, mappingConfirmedAt: 'x', consentedAt: 'x', scheduleTimeZone: 'UTC' };
    expect(resumeStep(done)).toBe('review');
    expect(resumeStep({ ...done, setupCompletedAt: 'x' })).toBe('review');
  });
});
