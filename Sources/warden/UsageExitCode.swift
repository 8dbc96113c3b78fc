import ArgumentParser
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension Warden {
    /// Runs the command line like ArgumentParser's default, but reports usage errors with
    /// exit status 2 (Warden's convention: 0 ok, 1 findings, 2 usage or I/O) instead of
    /// ArgumentParser's 64. Help and `--version` still exit 0.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                printError(fullMessage(for: error), prefix: false)
                fflush(nil)
                terminate(2)
            }
            exit(withError: error)
        }
    }
}


private func terminate(_ status: Int32) -> Never {
    #if canImport(Glibc)
    Glibc.exit(status)
    #else
    Musl.exit(status)
    #endif
}
