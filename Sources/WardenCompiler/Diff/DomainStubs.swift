// Placeholders so the contract compiles; each domain's owner replaces its stub with a file
// of its own (FilesystemDiff.swift, GrantsDiff.swift, NetworkDiff.swift, HTTPDiff.swift,
// GitPushDiff.swift, SyscallDiff.swift) and deletes the stub from here.
import WardenPolicy
