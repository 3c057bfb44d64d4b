/// One reply, as the load generator counts it.
enum Reply: Equatable {
    /// The answer to a request (or to the greeting): a success, or an error the server reported.
    case answer(ok: Bool)
    /// A frame that answers no request (a protocol push).
    case unsolicited
}
