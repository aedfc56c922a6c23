// The emulators for `npm run bench`, in a process of their own so the importer is measured alone.
// Started by bench/bench.ts with NODE_EXTRA_CA_CERTS set; reads its plan and the local secrets
// from the environment, writes the mapping CSV, prints one READY line and runs until SIGTERM.
import fs from 'node:fs';
import path from 'node:path';
import { renderMappingCsv } from '../emulators/telemessage/population';
import { startStack } from '../emulators/stack';
import { BlobServiceClient } from '@azure/storage-blob';
import { captureGrant, captureUser, type LocalLanding } from '../emulators/localDelivery';
import { deliverTrafficByEmail } from '../emulators/telemessage/smtpDelivery';
import { benchTraffic, benchUserId, benchWindow, type BenchPlan } from './benchPlan';

export interface BenchStackSecrets {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  telemessageUsername: string;
  telemessagePassword: string;
}

export interface BenchStackReady {
  authorityHost: string;
  graphUrl: string;
  telemessageUrl: string;
  mappingCsvPath: string;
  /** With source smtp: the capture mailbox the day was delivered into. */
  captureMailbox?: string;
  /** What the delivered source holds before the import starts (emails or ZIPs). */
  delivered?: string;
}

export const READY_PREFIX = 'BENCH-STACK-READY ';

async function main(): Promise<void> {
  const plan = JSON.parse(process.env.BENCH_PLAN ?? '') as BenchPlan & { stateDir: string };
  const secrets = JSON.parse(process.env.BENCH_SECRETS ?? '') as BenchStackSecrets;
  const window = benchWindow(plan.day);

  // Every employee but the last has a mailbox: the last one has left.
  const stack = await startStack({
    tenantId: secrets.tenantId,
    signin: { apps: [{ tenantId: secrets.tenantId, clientId: secrets.clientId, clientSecret: secrets.clientSecret, roles: ['Mail.ReadWrite', 'User.Read.All'] }] },
    telemessage: {
      seed: plan.seed,
      credentials: { username: secrets.telemessageUsername, password: secrets.telemessagePassword },
      population: { employees: plan.mailboxes + 1, domain: 'contoso.example' },
      traffic: benchTraffic(plan),
      days: [plan.day],
      now: window.to,
      // A token outlives the run, as a real one is renewed; the source renews it anyway on 401.
      tokenLifetimeSeconds: 86_400,
    },
    graph: {
      users: (staff) => [
        ...staff.slice(0, -1).map((e, i) => ({ id: benchUserId(i), userPrincipalName: e.mailbox, mail: e.mailbox, displayName: `${e.firstName} ${e.lastName}` })),
        ...(plan.source === 'smtp' ? [captureUser] : []),
      ],
      ...(plan.source === 'smtp' && { mailboxGrants: [captureGrant(secrets.clientId)] }),
      timeScale: plan.timeScale,
      // Sizes and hashes are enough to read back; keeping 200,000 messages' bytes is not the point.
      keepAttachmentBytesUpTo: 0,
    },
  });
  const { signin, telemessage, graph, staff } = stack;
  const withMailbox = staff.slice(0, -1);

  const mappingCsvPath = path.join(plan.stateDir, 'mapping.csv');
  fs.writeFileSync(mappingCsvPath, renderMappingCsv(withMailbox));

  // A delivered source gets the whole day before the import starts: the run's figures are its collection and its import.
  let delivered: string | undefined;
  if (plan.source === 'smtp') {
    const sent = await deliverTrafficByEmail(telemessage, graph, { mailbox: captureUser.mail, from: window.from, to: window.to });
    delivered = `${sent.delivered} emails (${(sent.bytes / 1048576).toFixed(1)} MiB) in ${captureUser.mail}, ${sent.refused.length} refused by the mailbox`;
  } else if (plan.source === 'sftp') {
    const landing = JSON.parse(process.env.BENCH_LANDING ?? '') as LocalLanding;
    const container = BlobServiceClient.fromConnectionString(landing.connectionString).getContainerClient(landing.container);
    await container.createIfNotExists();
    const zips = await telemessage.deliverZips(container, window.from, window.to);
    delivered = `${zips.reduce((n, z) => n + z.itemIds.length, 0)} EMLs in ${zips.length} ZIPs in the container ${landing.container}`;
  }
  const ready: BenchStackReady = {
    authorityHost: signin.authorityHost,
    graphUrl: graph.url,
    telemessageUrl: telemessage.url,
    mappingCsvPath,
    ...(plan.source === 'smtp' && { captureMailbox: captureUser.mail }),
    delivered,
  };
  process.stdout.write(`${READY_PREFIX}${JSON.stringify(ready)}\n`);
  const stop = () => {
    void stack.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`bench emulators failed to start: ${err.message}\n`);
    process.exit(1);
  });
}
