// bull-board (the BullMQ dashboard) for the job queue, as a plain node:http handler the HTTP
// server mounts behind its token check (`tidemark console` with REDIS_URL, under /admin/queues).
// bull-board ships adapters for web frameworks only; the Hono one is the lightest (Hono and its
// node-server bridge have no dependencies of their own), and the bridge turns it into the
// (req, res) handler our node:http server calls. Everything else stays node:http.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { getRequestListener } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import { Queue } from 'bullmq';
import { Hono } from 'hono';
import { openRedis } from './bullmq-queue.ts';

export interface QueueBoardOptions {
  readonly redisUrl: string;
  readonly queueName: string;
  /** Path prefix without a trailing slash, e.g. '/admin/queues'. */
  readonly prefix: string;
}

export interface QueueBoard {
  readonly prefix: string;
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  close(): Promise<void>;
}

export function createQueueBoard(options: QueueBoardOptions): QueueBoard {
  const connection = openRedis(options.redisUrl);
  // ioredis reconnects by itself; the board shows the queue as unreachable meanwhile.
  connection.on('error', () => {});
  const queue = new Queue(options.queueName, { connection });
  queue.on('error', () => {});
  const board = new HonoAdapter(serveStatic);
  board.setBasePath(options.prefix);
  createBullBoard({ queues: [new BullMQAdapter(queue)], serverAdapter: board });
  // Not strict: /admin/queues/ (as a browser may ask for it) is the board too.
  const app = new Hono({ strict: false });
  app.route(options.prefix, board.registerPlugin());
  // Without overrideGlobalObjects the bridge would swap the process-wide Request and Response
  // for its own, under every other fetch() of this process (webhooks, S3).
  const listener = getRequestListener(app.fetch, { overrideGlobalObjects: false });
  return {
    prefix: options.prefix,
    handler: (req, res) => {
      listener(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('queue board failed');
      });
    },
    async close() {
      await queue.close();
      connection.disconnect();
    },
  };
}
