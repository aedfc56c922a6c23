import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { mediaChunks } from '../../emulators/telemessage/mediaBytes';
import { base64Lines, base64Size, encodedWords, quotedPrintable } from '../../emulators/telemessage/mimeEncoding';
import { createPopulation, renderMappingCsv } from '../../emulators/telemessage/population';
import { renderRawMessage } from '../../emulators/telemessage/rfc822';
import { TrafficModel } from '../../emulators/telemessage/traffic';

const DAY = '2025-03-02';

describe('population', () => {
  const population = createPopulation({ seed: 'initech', employees: 200 });

  test('is a pure function of its options', () => {
    expect(createPopulation({ seed: 'initech', employees: 200 })).toEqual(population);
    expect(createPopulation({ seed: 'umbrella', employees: 200 }).employees.map((e) => e.mobile)).not.toEqual(population.employees.map((e) => e.mobile));
  });

  test('numbers are unique, valid E.164 mobiles, mostly from the primary country', () => {
    const numbers = [...population.employees.map((e) => e.mobile), ...population.externals.map((x) => x.number)];
    expect(new Set(numbers).size).toBe(numbers.length);
    for (const number of numbers) {
      expect(number).toMatch(/^\+[1-9]\d{7,14}$/);
      expect(parsePhoneNumberFromString(number)?.isValid()).toBe(true);
    }
    const countries = new Set(population.employees.map((e) => e.country));
    expect(countries.size).toBeGreaterThanOrEqual(5);
    expect(population.employees.filter((e) => e.country === 'US').length / 200).toBeGreaterThan(0.6);
  });

  test('mailboxes are first.last@domain, unique and ASCII even for accented and non-Latin names', () => {
    const mailboxes = population.employees.map((e) => e.mailbox);
    expect(new Set(mailboxes).size).toBe(mailboxes.length);
    for (const mailbox of mailboxes) expect(mailbox).toMatch(/^[a-z]+\.[a-z]+\d*@contoso\.example$/);
    expect(population.employees.some((e) => /[^\x20-\x7e]/.test(e.displayName))).toBe(true);
    const other = createPopulation({ seed: 'initech', employees: 5, domain: 'fabrikam.test' });
    expect(other.employees.every((e) => e.mailbox.endsWith('@fabrikam.test'))).toBe(true);
  });

  test('a few employees have no email at TeleMessage; some outsiders have an outside email', () => {
    const unregistered = population.employees.filter((e) => e.telemessageEmail === undefined);
    expect(unregistered.length).toBeGreaterThan(0);
    expect(unregistered.length).toBeLessThanOrEqual(20);
    expect(population.employees.filter((e) => e.telemessageEmail).every((e) => e.telemessageEmail === e.mailbox)).toBe(true);
    const withEmail = population.externals.filter((x) => x.email);
    expect(withEmail.length).toBeGreaterThan(0);
    expect(withEmail.every((x) => !x.email?.endsWith('@contoso.example'))).toBe(true);
    expect(population.externals.some((x) => x.name === undefined)).toBe(true);
  });

  test('renders the mapping CSV TeleMessage publishes, for the employees the caller picks', () => {
    const [a, b] = population.employees;
    expect(renderMappingCsv([a, b])).toBe(`External User ID,Microsoft 365 User Mailbox\r\n${a.mobile.slice(1)},${a.mailbox}\r\n${b.mobile.slice(1)},${b.mailbox}\r\n`);
  });
});

describe('traffic model', () => {
  const population = createPopulation({ seed: 'initech', employees: 40 });
  const model = new TrafficModel('initech', population, { itemsPerDay: 5000, malformedRatio: 0.1, hugeAttachments: [] });

  test('archive times stay inside the day and never go backwards', () => {
    const start = Date.parse(`${DAY}T00:00:00Z`);
    let previous = start;
    for (let index = 0; index < model.itemsPerDay; index++) {
      const at = model.archivedAtMs(DAY, index);
      expect(at).toBeGreaterThanOrEqual(previous);
      previous = at;
    }
    expect(previous).toBeLessThan(start + 86_400_000);
  });

  test('lowerBound agrees with a linear scan', () => {
    const times = Array.from({ length: model.itemsPerDay }, (_, i) => model.archivedAtMs(DAY, i));
    const start = Date.parse(`${DAY}T00:00:00Z`);
    for (const ms of [start - 1, start, start + 1, times[0], times[1234], times[1234] + 1, times[4999], start + 86_400_000]) {
      const scan = times.findIndex((t) => t >= ms);
      expect(model.lowerBound(DAY, ms)).toBe(scan === -1 ? times.length : scan);
    }
  });

  test('items are pure in (seed, day, index), and ids round-trip but cannot be forged', () => {
    expect(model.item(DAY, 4242)).toEqual(model.item(DAY, 4242));
    const id = model.itemId(DAY, 17);
    expect(model.locate(id)).toEqual({ day: DAY, index: 17 });
    expect(model.locate(id.replace(/.$/, (c) => (c === '0' ? '1' : '0')))).toBeUndefined();
    expect(model.locate(model.itemId(DAY, 4999).replace('4999', '5000'))).toBeUndefined();
    const other = new TrafficModel('hooli', createPopulation({ seed: 'hooli', employees: 40 }), { itemsPerDay: 5000 });
    expect(other.locate(id)).toBeUndefined();
  });

  test('huge attachments land once per day at spread positions', () => {
    const huge = new TrafficModel('initech', population, { itemsPerDay: 100, hugeAttachments: [151 * 2 ** 20, 160 * 2 ** 20] });
    const items = Array.from({ length: 100 }, (_, i) => huge.item(DAY, i));
    const big = items.filter((item) => item.attachments.some((a) => a.size > 150 * 2 ** 20));
    expect(big.map((item) => [item.index, item.type, item.attachments[0].contentType, item.attachments[0].size])).toEqual([
      [25, 'MMS', 'video/mp4', 151 * 2 ** 20],
      [75, 'VOICE_RECORDING', 'audio/wav', 160 * 2 ** 20],
    ]);
    expect(big.every((item) => item.malformation === undefined)).toBe(true);
  });
});

describe('raw message rendering', () => {
  const population = createPopulation({ seed: 'initech', employees: 40 });
  const model = new TrafficModel('initech', population, {
    itemsPerDay: 300,
    malformedRatio: 0.1,
    hugeAttachments: [],
    attachmentSizes: { mp4: { min: 1000, median: 60_000, max: 200_000 }, wav: { min: 1000, median: 50_000, max: 200_000 } },
  });

  test('the announced size is exactly the number of bytes streamed, for every item and breakage', async () => {
    for (let index = 0; index < model.itemsPerDay; index++) {
      const raw = renderRawMessage(model.item(DAY, index), 'initech');
      let streamed = 0;
      for await (const chunk of raw.stream()) streamed += (chunk as Buffer).length;
      expect([index, streamed]).toEqual([index, raw.size]);
    }
  });

  test('headers stay far below the 998-character line limit', async () => {
    for (let index = 0; index < model.itemsPerDay; index++) {
      const item = model.item(DAY, index);
      if (item.malformation === 'garbage-bytes') continue;
      const chunks: Buffer[] = [];
      for await (const chunk of renderRawMessage(item, 'initech').stream()) chunks.push(chunk as Buffer);
      const head = Buffer.concat(chunks).toString('utf8').split('\r\n\r\n')[0];
      for (const line of head.split('\r\n')) expect(line.length).toBeLessThan(120);
    }
  });
});

describe('MIME encodings', () => {
  test('encoded words stay within 75 characters and decode back to the text', () => {
    const text = 'נועה לוי — حداد 👨‍👩‍👧 Zoë Größer '.repeat(3);
    const words = encodedWords(text);
    expect(words.every((word) => word.length <= 75)).toBe(true);
    const decoded = Buffer.concat(words.map((word) => Buffer.from(word.slice(10, -2), 'base64'))).toString('utf8');
    expect(decoded).toBe(text);
  });

  test('quoted-printable keeps lines within 76 characters and escapes what it must', () => {
    const encoded = quotedPrintable(`${'שלום = hello '.repeat(20)}\nend `);
    expect(encoded.split('\r\n').every((line) => line.length <= 76)).toBe(true);
    expect(encoded).toContain('=3D');
    expect(encoded.endsWith('end=20')).toBe(true);
  });

  test('base64 lines match the predicted size and join across chunks', () => {
    const chunks = [...mediaChunks('png', 200_000, ['initech', 'unit'])];
    expect(chunks.reduce((sum, c) => sum + c.length, 0)).toBe(200_000);
    const encoded = Buffer.concat(chunks.map(base64Lines)).toString('latin1');
    expect(encoded.length).toBe(base64Size(200_000));
    expect(
      encoded
        .split('\r\n')
        .slice(0, -2)
        .every((line) => line.length === 76),
    ).toBe(true);
    expect(Buffer.from(encoded.replace(/\r\n/g, ''), 'base64')).toEqual(Buffer.concat(chunks));
  });

  test('generated files carry their format magic and are the same bytes every time', () => {
    const first = Buffer.concat([...mediaChunks('wav', 70_000, ['k'])]);
    expect(first.subarray(0, 4).toString('latin1')).toBe('RIFF');
    expect(first.readUInt32LE(4)).toBe(70_000 - 8);
    expect(first.subarray(8, 12).toString('latin1')).toBe('WAVE');
    expect(Buffer.concat([...mediaChunks('wav', 70_000, ['k'])])).toEqual(first);
    const jpeg = Buffer.concat([...mediaChunks('jpeg', 90_000, ['k'])]);
    expect(jpeg.subarray(0, 3).toString('hex')).toBe('ffd8ff');
    expect(jpeg.subarray(-2).toString('hex')).toBe('ffd9');
  });
});
