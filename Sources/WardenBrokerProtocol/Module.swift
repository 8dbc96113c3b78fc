/// Placeholder until the protocol module lands.
enum WardenBrokerProtocolModule {}
