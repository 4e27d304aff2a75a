// Why the HTTP server could not listen, naming PORT or CAREGATE_HOST and what to check instead of a
// bare EADDRINUSE.
import { ConfigError } from '../errors.ts';

export function listenError(error: NodeJS.ErrnoException, { port, host }: { port: number; host: string }): ConfigError | undefined {
  switch (error.code) {
    case 'EADDRINUSE':
      return new ConfigError(`PORT ${port} is already in use on ${host}: stop what listens there, or set PORT to a free port`, { setting: 'PORT', reason: 'port_in_use', port });
    case 'EACCES':
    case 'EPERM':
      return new ConfigError(`PORT ${port} on ${host} may not be opened by this user (ports below 1024 need privileges): set PORT to 1024 or above and map the public port in front (load balancer, container port mapping)`, { setting: 'PORT', reason: 'port_not_permitted', port });
    case 'EADDRNOTAVAIL':
      return new ConfigError(`CAREGATE_HOST ${host} is not an address of this machine: set it to one of its addresses, or 0.0.0.0 for all`, { setting: 'CAREGATE_HOST', reason: 'address_not_available', host });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ConfigError(`CAREGATE_HOST ${host} does not resolve: set it to an address of this machine, or 0.0.0.0 for all`, { setting: 'CAREGATE_HOST', reason: 'address_not_available', host });
  }
  return undefined;
}
