using System.Collections.Concurrent;
using System.Reflection;
using CrmMetrics.Domain.Validation;
using CrmMetrics.Functions.Security;
using Microsoft.Azure.Functions.Worker;

namespace CrmMetrics.Functions.Api;

/// <summary>Who may call an operation.</summary>
public enum Access { Anonymous, Reader, Writer, Admin }

/// <summary>
/// One HTTP operation of a function: its method, name, who may call it, and what it answers. The
/// key check enforces <see cref="Access"/> and the OpenAPI document is written from the same
/// attributes, so what is documented is what is served and guarded.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
public sealed class ApiOperationAttribute(string method, string operationId, Access access) : Attribute
{
    public string Method { get; } = method.ToUpperInvariant();
    public string OperationId { get; } = operationId;
    public Access Access { get; } = access;
    public string Summary { get; init; } = "";

    /// <summary>The body of a success, if any.</summary>
    public Type? Response { get; init; }

    /// <summary>The success status.</summary>
    public int Status { get; init; } = 200;

    /// <summary>A second success status with the same body (a PUT that creates answers 201).</summary>
    public int AlsoStatus { get; init; }

    /// <summary>Statuses answered with problem details besides 401/403 (400 means validation problems naming fields).</summary>
    public int[] Problems { get; init; } = [];

    /// <summary>What a PUT's or POST's body is, for the OpenAPI document.</summary>
    public RequestBody Body { get; init; } = RequestBody.Object;

    /// <summary>Another media type the success may be written in (text/csv).</summary>
    public string? AlsoProduces { get; init; }

    /// <summary>
    /// The query parameters the operation reads, besides the key's <c>code</c>. Any other is refused
    /// with 400 naming it before the function runs (a misspelt filter would otherwise be ignored and
    /// change the answer); the OpenAPI document lists these, and <see cref="QueryParameters"/> reads no other.
    /// </summary>
    public string[] Query { get; init; } = [];

    /// <summary>Those of <see cref="Query"/> the operation cannot do without (a 400 names them when missing): the OpenAPI document marks them required.</summary>
    public string[] RequiredQuery { get; init; } = [];

    /// <summary>The operation reads its own query (OData's system options, the page's view): nothing is refused for it.</summary>
    public bool AnyQuery { get; init; }

    /// <summary>The query parameters of a request that the operation does not read, each with why; empty when all are known.</summary>
    public ValidationErrors UnknownQuery(IQueryCollection query)
    {
        var errors = new ValidationErrors();
        if (AnyQuery) return errors;
        foreach (var name in query.Keys)
        {
            if (string.Equals(name, ApiKeyAuthorization.QueryName, StringComparison.OrdinalIgnoreCase) || Query.Contains(name, StringComparer.OrdinalIgnoreCase)) continue;
            errors.Add(name.Length == 0 ? "(a query parameter without a name)" : JsonFields.Truncate(name), Query.Length == 0
                ? "is not a query parameter of this operation, which takes none"
                : $"is not a query parameter of this operation, which takes {string.Join(", ", Query)}");
        }
        return errors;
    }

    public Role Role => Access switch
    {
        Access.Writer => Role.Writer,
        Access.Admin => Role.Admin,
        _ => Role.Reader,
    };
}

/// <summary>The declared operations of the app's HTTP functions, by function entry point and method.</summary>
public sealed class ApiOperations
{
    private readonly ConcurrentDictionary<string, IReadOnlyDictionary<string, ApiOperationAttribute>> _byEntryPoint = new(StringComparer.Ordinal);

    public ApiOperationAttribute? Find(string entryPoint, string method)
    {
        var operations = _byEntryPoint.GetOrAdd(entryPoint, Load);
        var key = HttpMethods.IsHead(method) ? "GET" : method.ToUpperInvariant();
        return operations.GetValueOrDefault(key);
    }

    private static IReadOnlyDictionary<string, ApiOperationAttribute> Load(string entryPoint)
    {
        var dot = entryPoint.LastIndexOf('.');
        var type = typeof(ApiOperations).Assembly.GetType(entryPoint[..dot]);
        var method = type?.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static).FirstOrDefault(m => m.Name == entryPoint[(dot + 1)..] && m.GetCustomAttribute<FunctionAttribute>() is not null);
        return method?.GetCustomAttributes<ApiOperationAttribute>().ToDictionary(a => a.Method) ?? new Dictionary<string, ApiOperationAttribute>();
    }

    /// <summary>Every HTTP function of the app with its route, methods and operations (for the OpenAPI document and tests).</summary>
    public static IEnumerable<HttpFunction> All() =>
        from type in typeof(ApiOperations).Assembly.GetTypes()
        from method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static)
        let function = method.GetCustomAttribute<FunctionAttribute>()
        where function is not null
        let trigger = method.GetParameters().Select(p => p.GetCustomAttribute<HttpTriggerAttribute>()).FirstOrDefault(a => a is not null)
        where trigger is not null
        select new HttpFunction(function.Name, trigger.Route ?? function.Name, (trigger.Methods ?? []).Select(m => m.ToUpperInvariant()).ToList(),
            method.GetCustomAttributes<ApiOperationAttribute>().ToList());
}

/// <summary>An HTTP function: its name, route (under the empty route prefix), methods and declared operations.</summary>
public sealed record HttpFunction(string Name, string Route, IReadOnlyList<string> Methods, IReadOnlyList<ApiOperationAttribute> Operations);

/// <summary>The body an operation reads.</summary>
public enum RequestBody
{
    /// <summary>One JSON object (a definition, a run request).</summary>
    Object,

    /// <summary>CRM events: a JSON array of event objects (or one object), or NDJSON, one event a line.</summary>
    Events,

    /// <summary>None: the operation reads no body (an action named by its route and query).</summary>
    None,
}
