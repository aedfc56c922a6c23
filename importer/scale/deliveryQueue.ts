import { QueueClient, QueueServiceClient } from '@azure/storage-queue';
import { storageEndpoints, type StorageTarget } from '../state/storageAccount';
import { readUnit, unitText, type DeliveryUnit } from './deliveryUnit';

/** A unit as a worker received it: hidden from the others until its receipt's visibility ends. */
export interface ReceivedUnit {
  /** Undefined when the message is not a unit (it is dropped). */
  unit: DeliveryUnit | undefined;
  messageId: string;
  popReceipt: string;
  /** Times the queue handed it out, including to workers that put it back at once (its mailbox was busy). */
  dequeueCount: number;
  /** The last operation on the message: each waits for the one before, since each changes the receipt the next needs. */
  last?: Promise<unknown>;
}

/** Messages one receive may take, as the service allows. */
const MAX_RECEIVE = 32;

/**
 * The run's work as units on an Azure Storage queue (Azurite locally): the run puts them on, any
 * worker takes them. A unit stays on the queue until a worker has reported it done: one whose
 * worker died comes back when its visibility ends.
 */
export class DeliveryQueue {
  private readonly client: QueueClient;
  private created: Promise<unknown> | undefined;

  constructor(
    storage: StorageTarget,
    readonly name: string,
  ) {
    const service = 'connectionString' in storage ? QueueServiceClient.fromConnectionString(storage.connectionString) : new QueueServiceClient(storageEndpoints(storage).queue, storage.credential);
    this.client = service.getQueueClient(name);
  }

  private ready(): Promise<unknown> {
    this.created ??= this.client.createIfNotExists().catch((err: unknown) => {
      this.created = undefined;
      throw err;
    });
    return this.created;
  }

  async send(unit: DeliveryUnit, signal?: AbortSignal): Promise<void> {
    await this.ready();
    await this.client.sendMessage(unitText(unit), { abortSignal: signal });
  }

  async receive(max: number, visibilitySeconds: number, signal?: AbortSignal): Promise<ReceivedUnit[]> {
    await this.ready();
    const { receivedMessageItems } = await this.client.receiveMessages({ numberOfMessages: Math.min(MAX_RECEIVE, Math.max(1, max)), visibilityTimeout: visibilitySeconds, abortSignal: signal });
    return receivedMessageItems.map((m) => ({ unit: readUnit(m.messageText), messageId: m.messageId, popReceipt: m.popReceipt, dequeueCount: m.dequeueCount }));
  }

  /** Keeps a unit hidden `seconds` more (0: back to the others at once); the receipt changes. */
  hide(received: ReceivedUnit, seconds: number): Promise<void> {
    return this.inTurn(received, async () => {
      const { popReceipt } = await this.client.updateMessage(received.messageId, received.popReceipt, undefined, seconds);
      if (popReceipt) received.popReceipt = popReceipt;
    });
  }

  /** Notes in the unit itself that a worker has begun it (`begun` one more), and keeps it hidden `seconds`. */
  markBegun(received: ReceivedUnit & { unit: DeliveryUnit }, seconds: number): Promise<void> {
    return this.inTurn(received, async () => {
      const unit = { ...received.unit, begun: (received.unit.begun ?? 0) + 1 };
      const { popReceipt } = await this.client.updateMessage(received.messageId, received.popReceipt, unitText(unit), seconds);
      if (popReceipt) received.popReceipt = popReceipt;
    });
  }

  delete(received: ReceivedUnit): Promise<void> {
    return this.inTurn(received, async () => {
      try {
        await this.client.deleteMessage(received.messageId, received.popReceipt);
      } catch (err) {
        // Gone already: another worker took it over (and finished it) after this one's visibility ended.
        if ((err as { statusCode?: number }).statusCode !== 404) throw err;
      }
    });
  }

  /** Runs `op` once the message's previous operation has settled: the receipt it uses is then the latest. */
  private inTurn(received: ReceivedUnit, op: () => Promise<void>): Promise<void> {
    const next = (received.last ?? Promise.resolve()).catch(() => undefined).then(op);
    received.last = next;
    return next;
  }

  /** Units waiting (approximate, as the service counts): what a scale rule reads. */
  async length(): Promise<number> {
    await this.ready();
    return (await this.client.getProperties()).approximateMessagesCount ?? 0;
  }
}
