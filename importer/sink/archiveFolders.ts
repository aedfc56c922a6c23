import type { Client } from '@microsoft/microsoft-graph-client';
import { ImporterError } from '../errors';
import { failureOf, mailboxNotEnabled } from './graphFailures';
import type { PacedGraph } from './pacedGraph';

/** The archive folder in each mailbox: found, else created once, remembered for the run. */
export class ArchiveFolders {
  private readonly folders = new Map<string, Promise<string>>();

  constructor(
    private readonly client: Client,
    private readonly graph: PacedGraph,
    private readonly folderName: string,
  ) {}

  /**
   * The archive folder's id in a mailbox: found, else created, else (someone else just created it)
   * found. A user without an Exchange Online mailbox fails with ImporterError 'MailboxNotEnabled',
   * remembered for the run: asking again would get the same answer.
   */
  ensure(userId: string, signal?: AbortSignal): Promise<string> {
    let folder = this.folders.get(userId);
    if (!folder) {
      folder = this.findOrCreate(userId, signal).catch((err: unknown) => {
        throw mailboxNotEnabled(err) ?? err;
      });
      this.folders.set(userId, folder);
      folder.catch((err: unknown) => {
        if (!(err instanceof ImporterError && err.code === 'MailboxNotEnabled')) this.folders.delete(userId);
      });
    }
    return folder;
  }

  /** The archive folder's id when it exists; never creates it. */
  async find(userId: string, signal?: AbortSignal): Promise<string | undefined> {
    return this.graph.call(userId, 0, signal, 'retry', () => this.named(userId));
  }

  private async findOrCreate(userId: string, signal?: AbortSignal): Promise<string> {
    const find = () => this.find(userId, signal);
    const existing = await find();
    if (existing) return existing;
    try {
      // Creating a folder twice is harmless: the second answers ErrorFolderExists.
      const created = await this.graph.call(
        userId,
        64,
        signal,
        'retry-unknown',
        () => this.client.api(`/users/${userId}/mailFolders`).post({ displayName: this.folderName }) as Promise<{ id: string }>,
      );
      return created.id;
    } catch (err) {
      if (failureOf(err).code !== 'ErrorFolderExists') throw err;
      const raced = await find();
      if (!raced) throw err;
      return raced;
    }
  }

  private async named(userId: string): Promise<string | undefined> {
    // A hidden folder still holds its name (creating it again answers ErrorFolderExists): ask for hidden ones too.
    const res = (await this.client
      .api(`/users/${userId}/mailFolders`)
      .query({ includeHiddenFolders: 'true' })
      .filter(`displayName eq '${this.folderName.replace(/'/g, "''")}'`)
      .select('id,displayName')
      .get()) as { value: { id: string }[] };
    return res.value[0]?.id;
  }
}
