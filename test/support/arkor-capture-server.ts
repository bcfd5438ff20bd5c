import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request received by a {@link CaptureServer}. */
export interface CapturedRequest {
  method: string;
  /** Path and query exactly as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A plain HTTP server on 127.0.0.1 that records requests and answers with a swappable handler. */
export interface CaptureServer {
  url: string;
  requests: CapturedRequest[];
  /** Number of request sockets that have closed (to prove that clients released connections). */
  closedResponses: number;
  /** Resolves when the next response closes (client left or response ended). */
  nextClose(): Promise<void>;
  handle(handler: (req: CapturedRequest, res: ServerResponse) => void): void;
  close(): Promise<void>;
}

export async function startCaptureServer(): Promise<CaptureServer> {
  let handler: (req: CapturedRequest, res: ServerResponse) => void = (_req, res) => {
    res.writeHead(404).end();
  };
  let closeWaiters: Array<() => void> = [];
  const state = { closedResponses: 0 };
  const requests: CapturedRequest[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const captured: CapturedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(captured);
      res.on('close', () => {
        state.closedResponses += 1;
        const waiters = closeWaiters;
        closeWaiters = [];
        for (const waiter of waiters) waiter();
      });
      handler(captured, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get closedResponses() {
      return state.closedResponses;
    },
    nextClose: () => new Promise<void>((resolve) => closeWaiters.push(resolve)),
    handle(next) {
      handler = next;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
