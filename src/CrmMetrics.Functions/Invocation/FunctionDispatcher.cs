using System.Text.Json;

namespace CrmMetrics.Functions.Invocation;

/// <summary>Finds a function's handler by name; both the host's invocation endpoint and the local runtime go through it.</summary>
public sealed class FunctionDispatcher(IEnumerable<IFunctionHandler> handlers, ILogger<FunctionDispatcher> logger)
{
    private readonly Dictionary<string, IFunctionHandler> _handlers = handlers.ToDictionary(h => h.Name, StringComparer.OrdinalIgnoreCase);

    public IReadOnlyCollection<string> Names => _handlers.Keys;

    public bool Has(string name) => _handlers.ContainsKey(name);

    public async Task<InvocationResponse> InvokeAsync(string name, InvocationRequest request, CancellationToken cancellationToken)
    {
        if (!_handlers.TryGetValue(name, out var handler)) throw new KeyNotFoundException($"No function named '{name}'.");
        using var scope = logger.BeginScope("{Function}", name);
        return await handler.InvokeAsync(request, cancellationToken);
    }

    public static readonly JsonSerializerOptions PayloadJson = new()
    {
        PropertyNamingPolicy = null, // the host's payload uses PascalCase member names
        PropertyNameCaseInsensitive = true,
    };
}
