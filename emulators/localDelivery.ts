// How TeleMessage delivers to the local stack (`npm start -- --source smtp|sftp`, the benches):
// the same generated traffic the archive API serves, as emails into a capture mailbox of the Graph
// emulator, or as ZIPs written into an Azurite container as TeleMessage's SFTP client would.
import { BlobServiceClient } from '@azure/storage-blob';
import type { GraphEmulator } from './graph/server';
import type { TeleMessageEmulator } from './telemessage/server';
import { RealTimeSmtpDelivery } from './telemessage/smtpDelivery';

export type LocalSource = 'api' | 'smtp' | 'sftp';
export const LOCAL_SOURCES: readonly LocalSource[] = ['api', 'smtp', 'sftp'];

/** The capture mailbox TeleMessage's SMTP destination points at (a shared mailbox in production). */
export const CAPTURE_MAILBOX = 'telemessage-capture@contoso.example';

/** The SFTP landing container: Azurite locally, a storage account of its own in Azure. */
export interface LocalLanding {
  connectionString: string;
  container: string;
}

export interface LocalDelivery {
  /** What the start-up banner says about it. */
  summary: string;
  /** Delivers what the archive holds since the last call (SMTP: real time; SFTP: one ZIP set per call). */
  catchUp(): Promise<number>;
  close(): Promise<void>;
}

/** The capture mailbox as a directory user: it must exist in the tenant for Graph to read it. */
export const captureUser = {
  id: '00000000-0000-4000-a000-00000000c0de',
  userPrincipalName: CAPTURE_MAILBOX,
  mail: CAPTURE_MAILBOX,
  displayName: 'TeleMessage capture',
  maxMessageSizeBytes: 150 * 1024 * 1024,
};

/** Mail.Read on the capture mailbox alone, as RBAC for Applications scopes it in Exchange Online (docs/deploy.md). */
export const captureGrant = (appId: string) => ({ appId, roles: ['Mail.Read'], mailboxes: [CAPTURE_MAILBOX] });

/**
 * Starts delivering `since` onwards. SMTP catches up every `everyMs` (TeleMessage sends in real
 * time); SFTP drops what is new on the same beat, a ZIP set per round named by its time, as
 * TeleMessage zips on count or size limits.
 */
export async function startLocalDelivery(
  source: Exclude<LocalSource, 'api'>,
  parts: { telemessage: TeleMessageEmulator; graph: GraphEmulator; landing?: LocalLanding },
  options: { since: Date; everyMs?: number; maxItemsPerZip?: number },
): Promise<LocalDelivery> {
  const { telemessage, graph } = parts;
  if (source === 'smtp') {
    const smtp = new RealTimeSmtpDelivery(telemessage, graph, { mailbox: CAPTURE_MAILBOX, since: options.since });
    const first = await smtp.catchUp();
    if (options.everyMs) smtp.start(options.everyMs, (err) => process.stderr.write(`SMTP delivery round failed: ${(err as Error).message}\n`));
    return {
      summary: `SMTP: ${first.delivered} emails in the capture mailbox ${CAPTURE_MAILBOX} (Mail.Read granted on it alone), more as the archive grows`,
      catchUp: async () => (await smtp.catchUp()).delivered,
      close: () => smtp.stop(),
    };
  }
  if (!parts.landing) throw new Error('SFTP delivery needs the landing container (an Azurite connection string and container name)');
  const container = BlobServiceClient.fromConnectionString(parts.landing.connectionString).getContainerClient(parts.landing.container);
  await container.createIfNotExists();
  let cursor = options.since;
  let running: Promise<number> = Promise.resolve(0);
  const drop = () => {
    running = running
      .catch(() => 0)
      .then(async () => {
        const to = telemessage.now();
        if (to <= cursor) return 0;
        const zips = await telemessage.deliverZips(container, cursor, to, { maxItemsPerZip: options.maxItemsPerZip });
        cursor = to;
        return zips.reduce((n, z) => n + z.itemIds.length, 0);
      });
    return running;
  };
  const first = await drop();
  const timer = options.everyMs ? setInterval(() => void drop().catch((err: Error) => process.stderr.write(`SFTP drop failed: ${err.message}\n`)), options.everyMs) : undefined;
  return {
    summary: `SFTP: ${first} items as ZIPs in the container ${parts.landing.container} (Azurite), more as the archive grows`,
    catchUp: drop,
    close: async () => {
      clearInterval(timer);
      await running.catch(() => undefined);
    },
  };
}
