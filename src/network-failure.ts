// What a failed connection's socket error means for an operator, for the start-up messages of every
// store: the reason in words and what to check. Undefined when the code is not a network failure.
export function networkFailure(code: string | undefined, host: string, tlsHint: string): { reason: string; hint: string } | undefined {
  switch (code) {
    case 'ECONNREFUSED':
      return { reason: 'connection refused', hint: 'is the server running, and are the host and port in the URL right?' };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { reason: `the host name "${host}" does not resolve`, hint: "check the host in the URL and this machine's DNS" };
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return { reason: 'no route to the server or no answer', hint: 'is the host right, and does a firewall let this machine reach that port?' };
    case 'ECONNRESET':
      return { reason: 'the server closed the connection', hint: `does it expect TLS (${tlsHint}), or is it the right kind of server at all?` };
  }
  return undefined;
}
