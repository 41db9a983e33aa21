"""The consent ledger: the state machine, recording events with their evidence, the
suppression list, proof, renewal, audiences and the reads the API and links make."""
