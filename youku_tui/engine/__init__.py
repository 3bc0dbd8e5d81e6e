"""The upload engine: state machine, hashing, OSS transfer, checkpoints. No Textual here."""
