import { ResponseType, type Client } from '@microsoft/microsoft-graph-client';
import type { ContainerClient } from '@azure/storage-blob';
import { LandingContainer } from './sftp/landingContainer';
import { ZipArchive, type ZipEntryHeader } from './sftp/zipArchive';
import { DEFAULT_ZIP_LIMITS } from './sftp/zipLimits';
import { checkAgainstManifest, findManifest, parseManifest } from './sftp/zipManifest';
import { ZipRejection } from './sftp/zipRejection';
import { checkEntries } from './sftp/zipSafety';

export type DeliveryCheckName = 'captureMailboxDelta' | 'captureMailboxMime' | 'landingList' | 'landingManifest';

export interface DeliveryCheck {
  name: DeliveryCheckName;
  /** What was checked, for the admin. */
  title: string;
  status: 'passed' | 'failed' | 'skipped';
  /** What was found; a refusal's own words (Graph's, the storage's, the ZIP check's). */
  detail: string;
}

/** Capture emails counted at most: the count says "at least" past it rather than read a huge mailbox through. */
export const MAX_COUNTED = 5_000;
const PAGE_SIZE = 100;

/**
 * Proves the app can read the capture mailbox as the collector will, changing nothing: a delta
 * query of its Inbox (from the collector's cursor when there is one, so the count is what the next
 * run takes) and the `$value` of one message.
 */
export async function checkCaptureMailbox(client: Client, mailbox: string, from: string | undefined, abortSignal?: AbortSignal): Promise<{ checks: DeliveryCheck[]; waiting?: number }> {
  const user = encodeURIComponent(mailbox);
  const start = `/users/${user}/mailFolders/inbox/messages/delta?changeType=created&$select=id,receivedDateTime`;
  let link = from ?? start;
  let waiting = 0;
  let first: string | undefined;
  try {
    for (;;) {
      const res = (await request(client, link, abortSignal).header('Prefer', `odata.maxpagesize=${PAGE_SIZE}`).get()) as Response;
      if (!res.ok) throw new Error(await refusal(res));
      const page = (await res.json()) as { value?: { id?: string; '@removed'?: unknown }[]; '@odata.nextLink'?: string };
      for (const m of page.value ?? []) {
        if (m['@removed'] || typeof m.id !== 'string') continue;
        waiting++;
        first ??= m.id;
      }
      if (!page['@odata.nextLink'] || waiting >= MAX_COUNTED) break;
      link = page['@odata.nextLink'];
    }
    // All collected already: one email the mailbox still holds proves $value all the same.
    if (!first && from) first = await firstMessage(client, start, abortSignal);
  } catch (err) {
    return {
      checks: [
        { name: 'captureMailboxDelta', title: `Read the Inbox of ${mailbox} (delta query)`, status: 'failed', detail: message(err) },
        { name: 'captureMailboxMime', title: 'Read one email as TeleMessage sent it ($value)', status: 'skipped', detail: 'The Inbox could not be read.' },
      ],
    };
  }
  const counted = waiting >= MAX_COUNTED ? `at least ${MAX_COUNTED}` : String(waiting);
  const delta: DeliveryCheck = {
    name: 'captureMailboxDelta',
    title: `Read the Inbox of ${mailbox} (delta query)`,
    status: 'passed',
    detail: `${counted} email${waiting === 1 ? '' : 's'} waiting to be collected.`,
  };
  if (!first)
    return {
      checks: [delta, { name: 'captureMailboxMime', title: 'Read one email as TeleMessage sent it ($value)', status: 'skipped', detail: 'The Inbox holds no email yet: nothing to read.' }],
      waiting,
    };
  return { checks: [delta, await readOneMime(client, user, first, abortSignal)], waiting };
}

async function firstMessage(client: Client, start: string, abortSignal?: AbortSignal): Promise<string | undefined> {
  const res = (await request(client, start, abortSignal).header('Prefer', 'odata.maxpagesize=1').get()) as Response;
  if (!res.ok) throw new Error(await refusal(res));
  const page = (await res.json()) as { value?: { id?: string; '@removed'?: unknown }[] };
  return page.value?.find((m) => !m['@removed'] && typeof m.id === 'string')?.id;
}

async function readOneMime(client: Client, user: string, id: string, abortSignal?: AbortSignal): Promise<DeliveryCheck> {
  const title = 'Read one email as TeleMessage sent it ($value)';
  try {
    const res = (await request(client, `/users/${user}/messages/${encodeURIComponent(id)}/$value`, abortSignal).get()) as Response;
    if (!res.ok) throw new Error(await refusal(res));
    const bytes = Buffer.from(await res.arrayBuffer());
    // A MIME message starts with its header block: a field name, then a colon.
    if (!/^[!-9;-~]+:/.test(bytes.subarray(0, 200).toString('latin1'))) throw new Error('Microsoft Graph sent something that is not an email (no header block).');
    return { name: 'captureMailboxMime', title, status: 'passed', detail: `Read ${bytes.length} bytes of MIME.` };
  } catch (err) {
    return { name: 'captureMailboxMime', title, status: 'failed', detail: message(err) };
  }
}

/**
 * Proves the app can read the SFTP landing container, changing nothing: lists its ZIPs and checks
 * the newest one's manifest and safety as the collector will (without taking anything from it).
 */
export async function checkLandingContainer(container: ContainerClient, abortSignal?: AbortSignal): Promise<{ checks: DeliveryCheck[]; waiting?: number }> {
  const listTitle = `List the container ${container.containerName}`;
  const zipTitle = "Check the newest ZIP's manifest and safety";
  let zips;
  try {
    zips = await new LandingContainer(container).list({ abortSignal });
  } catch (err) {
    return {
      checks: [
        { name: 'landingList', title: listTitle, status: 'failed', detail: message(err) },
        { name: 'landingManifest', title: zipTitle, status: 'skipped', detail: 'The container could not be listed.' },
      ],
    };
  }
  const listed: DeliveryCheck = { name: 'landingList', title: listTitle, status: 'passed', detail: `${zips.length} ZIP${zips.length === 1 ? '' : 's'} waiting to be collected.` };
  const newest = zips.at(-1);
  if (!newest) return { checks: [listed, { name: 'landingManifest', title: zipTitle, status: 'skipped', detail: 'No ZIP has been delivered yet.' }], waiting: 0 };
  const title = `${zipTitle}: ${newest.name}`;
  try {
    const zip = await ZipArchive.open(container.getBlobClient(newest.name), newest, { abortSignal });
    try {
      checkEntries(zip.entries, DEFAULT_ZIP_LIMITS);
      const manifestEntry = findManifest(zip.entries);
      if (manifestEntry.uncompressedSize > DEFAULT_ZIP_LIMITS.maxManifestBytes)
        throw new ZipRejection('ManifestUnreadable', `The manifest is ${manifestEntry.uncompressedSize} bytes; at most ${DEFAULT_ZIP_LIMITS.maxManifestBytes} are read.`);
      const manifest = parseManifest(await readWhole(zip, manifestEntry));
      const emls = checkAgainstManifest(manifestEntry, manifest, zip.entries);
      return {
        checks: [listed, { name: 'landingManifest', title, status: 'passed', detail: `The manifest's Count: ${manifest.count} matches the ${emls.length} EML files it lists.` }],
        waiting: zips.length,
      };
    } finally {
      zip.close();
    }
  } catch (err) {
    // A refused ZIP is what a collection would set aside: the reason is the admin's to read.
    return { checks: [listed, { name: 'landingManifest', title, status: 'failed', detail: message(err) }], waiting: zips.length };
  }
}

async function readWhole(zip: ZipArchive, entry: ZipEntryHeader): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await zip.openEntry(entry)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function request(client: Client, path: string, abortSignal?: AbortSignal) {
  const r = client.api(path).responseType(ResponseType.RAW);
  return abortSignal ? r.option('signal', abortSignal) : r;
}

async function refusal(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    return `Microsoft Graph answered ${res.status} ${body.error?.code ?? ''}: ${body.error?.message ?? ''}`.trim();
  } catch {
    return `Microsoft Graph answered ${res.status}.`;
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
