"""The simulation engine: counter-based randomness and the columns every view of the world is computed from."""
