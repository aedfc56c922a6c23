// Generates the local CA before any process that must trust it starts (NODE_EXTRA_CA_CERTS is
// read at process start only).
import { ensureLocalTls } from '../emulators/tls/localCa';

const tls = ensureLocalTls();
if (process.argv.includes('--print-path')) console.log(tls.caPath);
