import Crypto

/// Placeholder until identity tokens land.
enum WardenIdentityModule {}
