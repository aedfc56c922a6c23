import { throttleKindOf } from '../../importer/sink/throttleMessages';

// The messages Exchange Online puts in its 429s (code ApplicationThrottled for all three).
it('tells which of Outlook’s limits a 429 is about from Exchange’s own message', () => {
  expect(throttleKindOf('Application is over its IncomingBytes limit.')).toBe('upload');
  expect(throttleKindOf('Application is over its MailboxConcurrency limit.')).toBe('concurrency');
  expect(throttleKindOf('Application is over its MailboxRequests limit.')).toBe('rate');
  expect(throttleKindOf('Too many requests. Retry after the time in the Retry-After header.')).toBe('other');
});
