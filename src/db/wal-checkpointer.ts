/**
 * SQLite's WAL checkpoints off the event loop. By default the connection that commits past
 * 1000 WAL pages copies them into the database file (and syncs it) inside that commit, on the
 * server's only thread: every request waits meanwhile. Here a worker thread with a connection
 * of its own runs a PASSIVE checkpoint (it never blocks readers or writers) every
 * `intervalMs`, and the server's connection checkpoints only if the WAL still grows past a
 * large bound (the worker stopped or cannot keep up).
 */
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type SQLite from "better-sqlite3";

// Plain CommonJS evaluated in the worker: no TypeScript loader needed there.
const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.module);
const db = new Database(workerData.path);
db.pragma("busy_timeout = 100");
const checkpoint = () => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch {
    // Busy or closing: the next tick tries again.
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on("message", (message) => {
  if (message !== "stop") return;
  clearInterval(timer);
  db.close();
  parentPort.postMessage("stopped");
});
`;

/** WAL pages past which the server's own connection checkpoints after all (about 40 MB). */
const FALLBACK_PAGES = 10_000;

export interface WalCheckpointer {
  /** Stops the worker and closes its connection (before the server closes its own). */
  stop(): Promise<void>;
}

export function checkpointInBackground(sqlite: SQLite.Database, path: string, intervalMs = 100): WalCheckpointer {
  sqlite.pragma(`wal_autocheckpoint = ${FALLBACK_PAGES}`);
  const module = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(WORKER, { eval: true, workerData: { module, path, intervalMs } });
  worker.unref();
  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        const done = () => {
          void worker.terminate();
          resolve();
        };
        worker.once("message", done);
        worker.once("error", done);
        worker.once("exit", () => resolve());
        worker.postMessage("stop");
      });
      return stopped;
    },
  };
}
