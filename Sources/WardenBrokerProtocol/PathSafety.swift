/// The rules an origin path must follow before a rule is matched against it.
public enum PathSafety {
    public static func check(_ rawPath: String) throws(HTTPRefusal) {
        throw HTTPRefusal(status: 501, reason: "unimplemented")
    }
}
