namespace CrmMetrics.Storage.Account;

/// <summary>
/// An optimistic write gave up: other writers kept changing the same rows first, attempt after
/// attempt, and nothing of this change was stored. Not a fault of the request or of storage; the
/// caller retries later (an HTTP request answers 503 with <c>Retry-After</c>, a queue message is retried).
/// </summary>
public sealed class ConcurrentChangeException(string message, Exception? inner = null) : Exception(message, inner);
