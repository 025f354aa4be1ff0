namespace CrmMetrics.Domain.Validation;

/// <summary>
/// The one way this product reports bad input: messages grouped by the field they concern,
/// using the field's path as the client wrote it (for example <c>data.amount</c> or <c>tiers[1].rate</c>).
/// </summary>
public sealed class ValidationErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool IsEmpty => _errors.Count == 0;
    public int Count => _errors.Count;

    public ValidationErrors Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var list)) _errors[field] = list = [];
        list.Add(message);
        return this;
    }

    public bool Has(string field) => _errors.ContainsKey(field);

    public void AddRange(ValidationErrors other)
    {
        foreach (var (field, messages) in other._errors)
        foreach (var message in messages) Add(field, message);
    }

    public IReadOnlyDictionary<string, string[]> ToDictionary() =>
        _errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal);

    public override string ToString() =>
        string.Join("; ", _errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}"));

    public static ValidationErrors Single(string field, string message) => new ValidationErrors().Add(field, message);
}

/// <summary>Thrown where a caller must stop on invalid input; carries the field-named errors.</summary>
public sealed class ValidationException(ValidationErrors errors) : Exception(errors.ToString())
{
    public ValidationErrors Errors { get; } = errors;
}
