/**
 * Graceful shutdown that does not hang. Node's server.close() waits for every open connection,
 * including keep-alive sockets a browser opened ahead of time and never used (Chromium does);
 * such a socket would hold the process for a minute. This tracks which sockets are serving a
 * request: at shutdown the others are closed at once, and each busy one right after its
 * response, so in-flight requests finish and nothing else waits. A connection accepted in the
 * moment between the signal and the listener closing is closed at once.
 */
import type { Server } from "node:http";
import type { Socket } from "node:net";

export function trackConnections(server: Server): { closeIdle(): void } {
  const sockets = new Set<Socket>();
  const busy = new Set<Socket>();
  let closing = false;

  server.on("connection", (socket: Socket) => {
    if (closing) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on("close", () => {
      sockets.delete(socket);
      busy.delete(socket);
    });
  });
  server.on("request", (request, response) => {
    const socket = request.socket;
    busy.add(socket);
    response.on("close", () => {
      busy.delete(socket);
      if (closing) socket.destroy();
    });
  });

  return {
    closeIdle() {
      closing = true;
      for (const socket of sockets) if (!busy.has(socket)) socket.destroy();
    },
  };
}
