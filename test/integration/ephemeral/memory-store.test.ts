// The in-process store (embedded default) against the shared EphemeralStore specification.
import { createMemoryStore } from '../../../src/ephemeral/index.ts';
import { describeEphemeralStore } from './ephemeral-conformance.ts';

describeEphemeralStore('memory', async () => {
  const store = createMemoryStore();
  return { store, cleanup: () => store.close() };
});
