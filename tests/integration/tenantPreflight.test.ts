import { ImporterError, type Importer, type PreflightReport } from '../../importer';
import { APP, startHarness, type Harness, type HarnessOptions, harnessImporter } from '../support/importerHarness';
import { runArchiveCli } from '../support/archiveCli';

// The tenant preflight against the Graph emulator: what an admin runs once before the first import.
const FOLDER = 'Enterprise Number Archiver';

async function importerOf(h: Harness): Promise<Importer> {
  return harnessImporter(h, { tmpDir: h.tmpDir });
}

const statuses = (report: PreflightReport) => Object.fromEntries(report.checks.map((c) => [c.name, c.status]));

/** Every mailbox's folders and messages, to show the preflight left nothing and touched no other mailbox. */
const mailboxState = (h: Harness) =>
  h.graph.mailboxes().map((m) => {
    const box = h.graph.mailbox(m.userId);
    return { mailbox: m.userPrincipalName, folders: box.folders.map((f) => f.path).sort(), messages: box.messages.map((x) => x.id) };
  });

async function preflightAudit(h: Harness) {
  const importer = await importerOf(h);
  return (await importer.audit.list(new Date(Date.now() - 3_600_000), new Date(Date.now() + 60_000))).filter((e) => e.action === 'tenant.preflight');
}

describe('the tenant preflight', () => {
  let h: Harness;
  let importer: Importer;
  const options: HarnessOptions = { noMailbox: (staff) => [staff[1]], telemessage: { traffic: { itemsPerDay: 10, hugeAttachments: [] } } };
  beforeAll(async () => {
    h = await startHarness(options);
    importer = await importerOf(h);
  });
  afterAll(() => h.close());

  it('passes every check on a normal mailbox, leaves nothing behind, touches no other mailbox and writes one audit entry', async () => {
    const mailbox = h.staff[0].mailbox;
    const before = mailboxState(h);
    const report = await importer.connector.preflight(mailbox, 'oid-admin');
    expect(report.checks.filter((c) => c.status !== 'passed')).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.name)).toEqual(['token', 'permissions', 'user', 'mailbox', 'folder', 'nonDraftMessage', 'keyLookup', 'inlineAttachment', 'uploadSession', 'cleanup']);
    expect(report.checks.find((c) => c.name === 'folder')?.detail).toContain('created');
    // The harness's app holds Mail.ReadWrite in Entra ID: tenant-wide, which the admin is told.
    expect(report.checks.find((c) => c.name === 'permissions')?.warning).toMatch(/RBAC for Applications cannot scope/);
    expect(mailboxState(h)).toEqual(before);
    expect(h.graph.stats().served.byOperation.uploadChunk).toBe(2);
    // The 2 MiB session minimum the archiver uses is tried too, and the session cancelled unused.
    expect(report.checks.find((c) => c.name === 'uploadSession')?.detail).toContain('a 2097152-byte session is taken too');
    expect(h.graph.stats().served.byOperation.cancelUploadSession).toBe(1);

    const audit = await preflightAudit(h);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'oid-admin', detail: { mailbox, ok: true } });
  });

  it('leaves an archive folder that was already there', async () => {
    const mailbox = h.staff[2].mailbox;
    const user = h.graph.mailboxes().find((m) => m.userPrincipalName === mailbox)!;
    await h.context().createSink(FOLDER).ensureFolder(user.userId);
    const before = mailboxState(h);
    const report = await importer.connector.preflight(mailbox, 'oid-admin');
    expect(report.ok).toBe(true);
    expect(report.checks.find((c) => c.name === 'folder')?.detail).toContain('already there');
    expect(report.checks.find((c) => c.name === 'cleanup')?.detail).toMatch(/left as it was/);
    expect(mailboxState(h)).toEqual(before);
  });

  it('reports the mailbox check as failed, with Graph’s answer, for a user without an Exchange Online mailbox', async () => {
    const report = await importer.connector.preflight(h.staff[1].mailbox, 'oid-admin');
    expect(report.ok).toBe(false);
    const mailboxCheck = report.checks.find((c) => c.name === 'mailbox')!;
    expect(mailboxCheck).toMatchObject({
      status: 'failed',
      error: { status: 404, code: 'MailboxNotEnabledForRESTAPI', message: 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.' },
    });
    expect(statuses(report)).toMatchObject({ token: 'passed', permissions: 'passed', user: 'passed', folder: 'skipped', uploadSession: 'skipped', cleanup: 'skipped' });
  });

  it('refuses anything but one mailbox address, and changes nothing', async () => {
    const audit = (await preflightAudit(h)).length;
    const before = mailboxState(h);
    for (const bad of ['', 'not-an-address', 'a@b.com/../users/other@b.com', 'a@b.com,c@d.com']) {
      await expect(importer.connector.preflight(bad, 'oid-admin')).rejects.toMatchObject({ constructor: ImporterError, code: 'InvalidMailboxAddress' });
    }
    expect((await preflightAudit(h)).length).toBe(audit);
    expect(mailboxState(h)).toEqual(before);
  });

  it('runs from the CLI: npm run archive -- --preflight <mailbox> prints each check and exits 0, or 1 when one failed', async () => {
    const passed = await runArchiveCli(['--preflight', h.staff[3].mailbox], h.env);
    expect(passed.stdout).toContain(`tenant preflight against ${h.staff[3].mailbox}: every check passed`);
    expect(passed.stdout).toMatch(/passed +A 5 MB attachment added to the non-draft message by upload session/);
    expect(passed.code).toBe(0);
    const failed = await runArchiveCli(['--preflight', h.staff[1].mailbox], h.env);
    expect(failed.stdout).toMatch(/failed +The user has an Exchange Online mailbox Graph can reach/);
    expect(failed.stdout).toContain('Graph answered 404 MailboxNotEnabledForRESTAPI: The mailbox is either inactive, soft-deleted, or is hosted on-premise.');
    expect(failed.stdout).not.toContain(APP.clientSecret);
    expect(failed.code).toBe(1);
  }, 60_000);
});

describe('the tenant preflight in a tenant that refuses upload sessions on non-draft messages', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ graph: { refuseUploadSessionsOnSentItems: true }, telemessage: { traffic: { itemsPerDay: 10, hugeAttachments: [] } } });
  });
  afterAll(() => h.close());

  it('reports exactly that check as failed, with Graph’s error, and the others as passed', async () => {
    const importer = await importerOf(h);
    const before = mailboxState(h);
    const report = await importer.connector.preflight(h.staff[0].mailbox, 'oid-admin');
    expect(report.ok).toBe(false);
    expect(report.checks.filter((c) => c.status !== 'passed').map((c) => c.name)).toEqual(['uploadSession']);
    expect(report.checks.find((c) => c.name === 'uploadSession')?.error).toEqual({
      status: 400,
      code: 'ErrorInvalidOperation',
      message: 'Upload sessions can be created only on draft items in this mailbox.',
    });
    // Cleanup still ran: the test message and the folder it made are gone.
    expect(mailboxState(h)).toEqual(before);
  });
});
