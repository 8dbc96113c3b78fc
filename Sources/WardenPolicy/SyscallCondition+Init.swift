extension SyscallCondition {
    /// A condition built outside the checker (the compiler's built-in safeguards).
    public static func make(argument: Int, argumentName: String, is32Bit: Bool, test: Test, span: SourceSpan) -> SyscallCondition {
        SyscallCondition(argument: argument, argumentName: argumentName, is32Bit: is32Bit, test: test, span: span)
    }
}
