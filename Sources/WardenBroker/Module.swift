import NIOCore
import NIOPosix
import NIOSSL
import X509

/// Placeholder until the broker lands.
enum WardenBrokerModule {}
