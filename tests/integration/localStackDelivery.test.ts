import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { startLocalStack, type LocalStack } from '../../emulators/localStack';
import { CAPTURE_MAILBOX } from '../../emulators/localDelivery';
import { startAzurite, type RunningAzurite } from '../../emulators/storage/azurite';
import { ZipArchive } from '../../importer/source/sftp/zipArchive';

// The local stack `npm start -- --source smtp|sftp` runs: TeleMessage's generated days delivered
// into the Graph emulator's capture mailbox, or as ZIPs into an Azurite landing container, the same
// items the archive API lists for the same window.
describe('the local stack of npm start, by the source chosen', () => {
  let stateDir: string;
  let stack: LocalStack | undefined;
  let azurite: RunningAzurite | undefined;

  beforeEach(() => {
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'local-stack-'));
  });
  afterEach(async () => {
    await stack?.close();
    await azurite?.stop();
    stack = undefined;
    azurite = undefined;
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  /** What the archive API holds from yesterday's start to now: what a delivered source must deliver. */
  const archived = (s: LocalStack) => {
    const since = `${new Date(s.telemessage.now().getTime() - 86_400_000).toISOString().slice(0, 10)}T00:00:00.000Z`;
    return s.telemessage.listExpected(since, s.telemessage.now());
  };

  it('smtp: the capture mailbox is a directory user holding an email per archived item, and the banner says so', async () => {
    stack = await startLocalStack({ stateDir, source: 'smtp', itemsPerDay: 40, employees: 8, deliverEveryMs: 0 });
    expect(stack.info).toMatchObject({ source: 'smtp', captureMailbox: CAPTURE_MAILBOX });
    const items = archived(stack);
    expect(items.length).toBeGreaterThan(10);
    const emails = stack.graph.mailbox(CAPTURE_MAILBOX).messages;
    // Every item but those the mailbox bounces (an over-size or garbage item is refused by transport).
    expect(emails.length).toBeGreaterThan(items.length - 3);
    expect(emails.length).toBeLessThanOrEqual(items.length);
    expect(stack.info.deliverySummary).toContain(`${emails.length} emails in the capture mailbox ${CAPTURE_MAILBOX}`);
    // A second catch-up sends only what was archived since: no email twice.
    await stack.delivery!.catchUp();
    const ids = stack.graph.mailbox(CAPTURE_MAILBOX).messages.map((m) => m.internetMessageId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBeGreaterThanOrEqual(emails.length);
  }, 240_000);

  it('sftp: the landing container holds ZIPs whose manifests list every archived item once', async () => {
    azurite = await startAzurite({ inMemory: true });
    stack = await startLocalStack({ stateDir, source: 'sftp', itemsPerDay: 40, employees: 8, deliverEveryMs: 0, landing: { connectionString: azurite.connectionString, container: 'telemessage' } });
    const items = archived(stack);
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('telemessage');
    /** Every EML in every ZIP of the container, as the importer's ZIP reader lists them. */
    const emlsInContainer = async () => {
      const names: string[] = [];
      for await (const blob of container.listBlobsFlat()) {
        expect(blob.name).toMatch(/^\d{8}0000-TeleMessage_\d+_\d+\.zip$/);
        const zip = await ZipArchive.open(container.getBlobClient(blob.name), { name: blob.name, etag: blob.properties.etag!, size: blob.properties.contentLength! });
        names.push(...zip.entries.map((e) => e.name).filter((n) => n.endsWith('.eml')));
        zip.close();
      }
      return names;
    };
    expect((await emlsInContainer()).sort()).toEqual(items.map((i) => `${i.id}.eml`).sort());
    expect(stack.info.deliverySummary).toContain(`${items.length} items as ZIPs in the container telemessage`);
    // A second drop holds only what was archived since: no item twice.
    await stack.delivery!.catchUp();
    const again = await emlsInContainer();
    expect(new Set(again).size).toBe(again.length);
  }, 240_000);
});
