// Every log line written while a request is handled names the request, so a sign-in, an error or a
// warning deep in a service can be followed back to the request line (and its trace).
import type { Logger } from '../logger.ts';
import { currentRequestId } from './request-context.ts';

export function logWithRequestId(log: Logger): Logger {
  const at = (write: Logger['info']): Logger['info'] => (msg, fields) => {
    const requestId = currentRequestId();
    write(msg, requestId === undefined || (fields && 'requestId' in fields) ? fields : { requestId, ...fields });
  };
  return { debug: at(log.debug), info: at(log.info), warn: at(log.warn), error: at(log.error) };
}
