import { mappingReportCsv, MappingFileError, type Importer, type MappingFileReason } from '../../importer';
import type { Employee } from '../../emulators/telemessage/population';
import { startHarness, type Harness, harnessImporter } from '../support/importerHarness';

/** Uploading the custom mapping as admins really do it, against Azurite and the Graph emulator. */
describe('custom mapping: upload, preview, versions, single edits, export', () => {
  let h: Harness;
  let importer: Importer;
  let users: Employee[];
  let leaver: Employee;
  beforeAll(async () => {
    h = await startHarness({ telemessage: { population: { employees: 12, primaryCountry: 'US', primaryShare: 1 } } });
    importer = await harnessImporter(h);
    users = h.staff.filter((e) => h.users.has(e.mailbox));
    leaver = h.staff.find((e) => !h.users.has(e.mailbox))!;
  });
  afterAll(() => h.close());

  /** The active mapping as stored, read back: version id and every entry. */
  async function active(): Promise<{ version?: string; entries: [string, string][] }> {
    const { value } = await importer.connector.settings();
    return { version: value.mappingVersion, entries: [...(await h.stores.mappings.load(value.mappingVersion))].sort() };
  }
  const etag = async () => (await importer.connector.settings()).etag;
  const telemessageRows = (staff: Employee[]) => staff.map((e) => `${e.mobile.slice(1)},${e.mailbox}`);

  async function refused(csv: Buffer | string, reason: MappingFileReason): Promise<MappingFileError> {
    const before = await active();
    const err = await importer.mapping.apply(csv, 'admin-1', { etag: await etag(), confirmRemovals: true }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MappingFileError);
    expect(err).toMatchObject({ code: 'InvalidMappingCsv', reason });
    // A bad file leaves the active mapping exactly as it was.
    expect(await active()).toEqual(before);
    return err as MappingFileError;
  }

  it("applies TeleMessage's own format, checking every mailbox with a few batched directory queries", async () => {
    const before = await active();
    const listUsersBefore = h.graph.stats().served.byOperation.listUsers ?? 0;
    const csv = ['External User ID,Microsoft 365 User Mailbox', ...telemessageRows(users)].join('\r\n') + '\r\n';
    const preview = await importer.mapping.preview(csv);
    expect(preview.check).toMatchObject({ ok: true, rows: users.length, entries: users.length, problems: [], mailboxes: { checked: users.length, unknown: 0, graphRequests: 1 } });
    // 11 mailboxes: one `userPrincipalName in (…)` query of at most 15, in one $batch.
    expect((h.graph.stats().served.byOperation.listUsers ?? 0) - listUsersBefore).toBe(Math.ceil(users.length / 15));
    expect(preview.diff).toMatchObject({ activeRows: before.entries.length, removed: 0, confirmationRequired: false });
    expect(preview.diff.added + preview.diff.unchanged).toBe(users.length);
    expect(await active()).toEqual(before);

    const change = await importer.mapping.apply(csv, 'admin-1', { etag: await etag() });
    expect(change.version).toMatchObject({ createdBy: 'admin-1', origin: 'upload', rows: users.length });
    const after = await active();
    expect(after.version).toBe(change.version!.version);
    expect(after.entries).toEqual(users.map((e) => [e.mobile, e.mailbox]).sort());
    const audit = (await importer.audit.list(new Date(Date.now() - 60_000), new Date(Date.now() + 60_000))).filter((a) => a.action === 'mapping.applied');
    expect(audit.at(-1)).toMatchObject({ actor: 'admin-1', before: { rows: before.entries.length }, after: { mappingVersion: after.version, rows: users.length } });
  });

  it('asks a directory query again when Graph refuses it inside a 200 batch', async () => {
    const before = h.graph.stats().served.byOperation.listUsers ?? 0;
    h.graph.addFault({ kind: 'error', status: 503, retryAfterSeconds: 0, count: 1, operations: ['listUsers'] });
    const csv = ['Mobile Number,Email', ...users.map((e) => `${e.mobile},${e.mailbox}`)].join('\n');
    const preview = await importer.mapping.preview(csv);
    h.graph.clearFaults();
    expect(preview.check).toMatchObject({ ok: true, mailboxes: { checked: users.length, unknown: 0, graphRequests: 2 } });
    expect((h.graph.stats().served.byOperation.listUsers ?? 0) - before).toBe(1);
  });

  it('reads an Excel-saved file (BOM, semicolons, CRLF, quoted values with spaces) and previews what changes', async () => {
    const [a, b, c] = users;
    const csv =
      '\uFEFF"Mobile Number";"Email"\r\n' +
      `" ${a.mobile} ";"  ${a.mailbox.toUpperCase()} "\r\n\r\n"${b.mobile}";"${c.mailbox}"\r\n` +
      users
        .slice(3)
        .map((e) => `${e.mobile};${e.mailbox}`)
        .join('\r\n') +
      '\r\n';
    const preview = await importer.mapping.preview(Buffer.from(csv, 'utf8'));
    expect(preview.check).toMatchObject({ ok: true, delimiter: ';', rows: users.length - 1 });
    // c is left out; b now goes to c's mailbox.
    expect(preview.diff).toMatchObject({ added: 0, changed: 1, removed: 1, unchanged: users.length - 2 });
    expect(preview.diff.examples.changed).toEqual([{ number: b.mobile, from: b.mailbox, to: c.mailbox }]);
    expect(preview.diff.examples.removed).toEqual([{ number: c.mobile, from: c.mailbox }]);
  });

  it('takes national numbers with the connector’s default country, and the header spellings admins use', async () => {
    const settings = await importer.connector.settings();
    await importer.connector.update({ defaultCountry: 'US' }, 'admin-1', { etag: settings.etag });
    const national = (e164: string) => `(${e164.slice(2, 5)}) ${e164.slice(5, 8)}-${e164.slice(8)}`;
    const csv = ['Phone,UPN,Department', ...users.map((e) => `${national(e.mobile)},${e.mailbox},Sales`)].join('\n');
    const preview = await importer.mapping.preview(csv);
    expect(preview.check.problems).toEqual([]);
    expect(preview.check.header).toEqual({ number: 'Phone', mailbox: 'UPN' });
    expect(preview.diff).toMatchObject({ added: 0, changed: 0, removed: 0, unchanged: users.length });
  });

  it('refuses duplicates with two mailboxes and unknown mailboxes, row by row, with a downloadable report', async () => {
    const [a, b] = users;
    const csv = [
      'External User ID,Microsoft 365 User Mailbox',
      '445204334324,susan@company.com', // TeleMessage's own example row: no such user in this tenant
      `${a.mobile.slice(1)},${a.mailbox}`,
      `${a.mobile.slice(1)},${a.mailbox}`, // the same row twice: harmless
      `${a.mobile.slice(1)},${b.mailbox}`, // the same number to a second mailbox
      `${leaver.mobile.slice(1)},${leaver.mailbox}`, // a leaver: no longer a Microsoft 365 user
      'not a number,=HYPERLINK("http://x")',
    ].join('\r\n');
    const preview = await importer.mapping.preview(csv);
    expect(preview.check.ok).toBe(false);
    expect(preview.check.repeated).toBe(1);
    expect(preview.check.problems.map((p) => [p.line, p.code])).toEqual([
      [2, 'UnknownMailbox'],
      [5, 'ConflictingMailboxes'],
      [6, 'UnknownMailbox'],
      [7, 'NotANumber'],
      [7, 'NotAnEmail'],
    ]);
    const report = mappingReportCsv(preview.check.problems);
    expect(report.split('\r\n')[0]).toBe('Line,Problem,Value,What is wrong');
    expect(report).toContain('2,UnknownMailbox,susan@company.com,"susan@company.com is not a Microsoft 365 user (check the spelling, or that the mailbox exists)"\r\n');
    expect(report).toContain(`5,ConflictingMailboxes,${a.mobile.slice(1)},the number ${a.mobile} is mapped to ${a.mailbox} on line 3 and to ${b.mailbox} here\r\n`);
    // The formula the file carried is neutralised in the report.
    expect(report).toContain(`7,NotAnEmail,"'=HYPERLINK(""http://x"")"`);

    const err = await refused(csv, 'rowProblems');
    expect(err.problems).toHaveLength(5);
    expect(err.message).toMatch(/5 problems; nothing was changed/);
    expect(err.details?.[0]).toBe('line 2: susan@company.com is not a Microsoft 365 user (check the spelling, or that the mailbox exists)');
  });

  it('refuses a header-only, empty, binary or 10 MB file and leaves the mapping as it was', async () => {
    expect((await refused('External User ID,Microsoft 365 User Mailbox\r\n', 'headerOnly')).message).toMatch(/header and no rows/);
    await refused('', 'empty');
    await refused(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x08, 0x08, 0x00, 0x00, 0xc3, 0x28]), 'notText');
    const row = `${users[0].mobile.slice(1)},${users[0].mailbox}\r\n`;
    const tenMegabytes = Buffer.from('External User ID,Microsoft 365 User Mailbox\r\n' + row.repeat(Math.ceil((10 * 1024 * 1024) / row.length)));
    expect(tenMegabytes.length).toBeGreaterThan(10 * 1024 * 1024);
    expect((await refused(tenMegabytes, 'tooLarge')).message).toMatch(/larger than 8 MiB/);
  });

  it('asks for confirmation before removing more than half of the active mapping', async () => {
    const before = await active();
    const csv = ['Mobile Number,Email', ...users.slice(0, 3).map((e) => `${e.mobile},${e.mailbox}`)].join('\n');
    const preview = await importer.mapping.preview(csv);
    expect(preview.diff).toMatchObject({ removed: users.length - 3, confirmationRequired: true });
    await expect(importer.mapping.apply(csv, 'admin-1', { etag: await etag() })).rejects.toMatchObject({ code: 'ConfirmationRequired' });
    expect(await active()).toEqual(before);
    const change = await importer.mapping.apply(csv, 'admin-2', { etag: await etag(), confirmRemovals: true });
    expect((await active()).entries).toHaveLength(3);
    expect(change.diff.removed).toBe(users.length - 3);
  });

  it('refuses a change over someone else’s edit of the connector', async () => {
    const before = await active();
    const stale = await etag();
    await importer.connector.update({ automaticMapping: true }, 'admin-2', { etag: stale });
    const csv = ['Mobile Number,Email', ...users.map((e) => `${e.mobile},${e.mailbox}`)].join('\n');
    await expect(importer.mapping.apply(csv, 'admin-1', { etag: stale })).rejects.toMatchObject({ code: 'Conflict' });
    expect(await active()).toEqual(before);
  });

  it('maps and removes single numbers as new versions, lists the versions and restores an earlier one', async () => {
    const restorePoint = (await active()).version!;
    const [a] = users;
    const fresh = users[5];
    await expect(importer.mapping.mapNumber('12ab', fresh.mailbox, 'admin-1', { etag: await etag() })).rejects.toMatchObject({ code: 'InvalidPhoneNumber' });
    await expect(importer.mapping.mapNumber(fresh.mobile, 'not-an-email', 'admin-1', { etag: await etag() })).rejects.toMatchObject({ code: 'InvalidMailbox' });
    await expect(importer.mapping.mapNumber(fresh.mobile, leaver.mailbox, 'admin-1', { etag: await etag() })).rejects.toMatchObject({ code: 'UnknownMailbox' });
    const before = await active();
    expect(before.entries.some(([n]) => n === fresh.mobile)).toBe(false);

    const mapped = await importer.mapping.mapNumber(fresh.mobile, fresh.mailbox.toUpperCase(), 'admin-3', { etag: await etag() });
    expect(mapped.version).toMatchObject({ origin: 'mapNumber', createdBy: 'admin-3', rows: before.entries.length + 1 });
    expect((await active()).entries).toContainEqual([fresh.mobile, fresh.mailbox]);
    await expect(importer.mapping.unmapNumber('+1 202 555 0199', 'admin-3', { etag: await etag() })).rejects.toMatchObject({ code: 'NotFound' });
    const removed = await importer.mapping.unmapNumber(a.mobile, 'admin-3', { etag: await etag() });
    expect(removed.version).toMatchObject({ origin: 'unmapNumber', rows: before.entries.length });
    expect((await active()).entries.some(([n]) => n === a.mobile)).toBe(false);

    const versions = await importer.mapping.versions();
    expect(versions[0]).toMatchObject({ version: removed.version!.version, active: true, createdBy: 'admin-3', origin: 'unmapNumber' });
    expect(versions[1]).toMatchObject({ version: mapped.version!.version, active: false, origin: 'mapNumber' });
    expect(versions.filter((v) => v.active)).toHaveLength(1);
    expect(versions.map((v) => v.createdAt.getTime())).toEqual([...versions.map((v) => v.createdAt.getTime())].sort((x, y) => y - x));

    const restored = await importer.mapping.restore(restorePoint, 'admin-4', { etag: await etag() });
    expect(restored.version).toMatchObject({ origin: 'restore', restoredFrom: restorePoint, createdBy: 'admin-4' });
    expect((await active()).entries).toEqual([...(await h.stores.mappings.load(restorePoint))].sort());
    await expect(importer.mapping.restore('0000000000000-nosuchv', 'admin-4', { etag: await etag() })).rejects.toMatchObject({ code: 'NotFound' });

    const audit = (await importer.audit.list(new Date(Date.now() - 60_000), new Date(Date.now() + 60_000))).map((e) => e.action);
    expect(audit).toEqual(expect.arrayContaining(['mapping.numberMapped', 'mapping.numberUnmapped', 'mapping.restored']));
  });

  it('exports the active mapping or any version as CSV that uploads again unchanged', async () => {
    let text = '';
    for await (const chunk of importer.mapping.export()) text += chunk;
    const lines = text.trimEnd().split('\r\n');
    expect(lines[0]).toBe('External User ID,Microsoft 365 User Mailbox');
    // Numbers as TeleMessage writes them (no '+', which a spreadsheet would read as a formula).
    expect(lines.slice(1).every((l) => /^\d+,[^=+\-@]/.test(l))).toBe(true);
    const preview = await importer.mapping.preview(text);
    expect(preview.diff).toMatchObject({ added: 0, changed: 0, removed: 0, unchanged: lines.length - 1 });

    const oldest = (await importer.mapping.versions()).at(-1)!;
    let old = '';
    for await (const chunk of importer.mapping.export({ version: oldest.version })) old += chunk;
    expect(old.trimEnd().split('\r\n')).toHaveLength(oldest.rows + 1);
  });
});
