/**
 * The process environment the server runs with beside its own settings: read by the C library,
 * not by the server, so it must be set before Node starts (App Service app settings in
 * infra/main.bicep, the server child of `npm start`, the importer of `npm run bench`, and
 * `npm run archive` through package.json).
 *
 * The importer moves many Buffers of a few kilobytes to a few megabytes through TLS and Azure's
 * SDKs. With glibc's defaults a process gets an allocation arena per thread and a threshold for
 * mmap that rises after each large free, so freed Buffer memory stays in the heap, fragmented, and
 * the resident set creeps up. Two arenas and a fixed 32 KiB mmap threshold hand blocks of that
 * size and more back to the system as they are freed. On the bench day the allocator's own heap
 * went from about 85 MB to about 48 MB.
 */
export const NODE_RUNTIME_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: '32768',
};

/**
 * Node's flags for the server (infra/main.bicep's appCommandLine, `npm start`, the bench's
 * importer, `npm run archive` through NODE_OPTIONS in package.json).
 *
 * - A young generation of 4 MB semi-spaces instead of 16 MB: the importer's garbage is mostly per
 *   item and short-lived, so smaller semi-spaces keep the heap some 30 MB smaller for a few per
 *   cent more time in scavenges.
 * - An old generation capped at 1 GB. On a machine with more than 16 GB (an App Service plan, the
 *   bench's), V8 otherwise allows itself 4 GB and lets the heap grow to four times what is live
 *   before it collects; the Buffers that dead objects hold wait for that collection too. Under a
 *   1 GB cap V8 grows the heap by less than twice between collections: on a bench day of 10,000
 *   deliveries the importer peaked at about 170 MiB instead of 250–265 MiB, for some 10–20 % more
 *   CPU. What is really live is some 40–60 MB, far below the cap, whatever the day's volume.
 */
export const NODE_RUNTIME_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--max-old-space-size=1024'];
