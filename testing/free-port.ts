/** A free TCP port on 127.0.0.1, for a server a test must start on a known port (and restart there). */
import { createServer } from 'node:net';

/** Resolves to a port of 127.0.0.1 that was free a moment ago (another process may take it meanwhile). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no free port')),
      );
    });
  });
}
