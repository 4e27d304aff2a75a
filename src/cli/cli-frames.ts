// The wire format of the CLI socket: one JSON object per line, both ways. The CLI sends its hello
// (secret, argv, operator) and the files and standard input the command asks for; the server sends
// output, those requests, files to write where the CLI runs, and the exit code. A line past the
// limit, or one that is not a JSON object, ends the connection.
import type { Socket } from 'node:net';

export type Frame = Record<string, unknown>;

/** The version of these frames, in the hello; a server speaking another refuses the command line. */
export const CLI_PROTOCOL = 1;

/** Large enough for a file a command reads (SAML metadata, a CA bundle, a settings file). */
export const MAX_FRAME_CHARS = 16 * 1024 * 1024;

export function sendFrame(socket: Socket, frame: Frame): void {
  if (socket.writable) socket.write(`${JSON.stringify(frame)}\n`);
}

/** Calls `handle` with each frame as it arrives; `limit` may tighten before the peer is trusted. */
export function onFrames(socket: Socket, handle: (frame: Frame) => void, limit: () => number = () => MAX_FRAME_CHARS): void {
  let pieces: string[] = [];
  let length = 0;
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    let start = 0;
    // Only the new chunk is searched, so a long frame arriving in many chunks costs linear time.
    for (let nl = chunk.indexOf('\n'); nl >= 0 && !socket.destroyed; nl = chunk.indexOf('\n', start)) {
      const line = pieces.join('') + chunk.slice(start, nl);
      pieces = [];
      length = 0;
      start = nl + 1;
      let frame: unknown;
      try {
        frame = JSON.parse(line);
      } catch {
        socket.destroy();
        return;
      }
      if (!frame || typeof frame !== 'object' || Array.isArray(frame)) {
        socket.destroy();
        return;
      }
      handle(frame as Frame);
    }
    if (start < chunk.length) {
      pieces.push(chunk.slice(start));
      length += chunk.length - start;
    }
    if (length > limit()) socket.destroy();
  });
}
