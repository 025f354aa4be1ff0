using System.Text.Json;
using Azure.Messaging.ServiceBus;

namespace CrmMetrics.Functions.Alerts;

/// <summary>
/// How an alert (a structured CloudEvents JSON document) becomes a Service Bus message, per the alert
/// contract: <c>MessageId</c> = the CloudEvent id (the topic's duplicate detection drops a resend),
/// <c>ContentType</c> = <c>application/cloudevents+json</c>, <c>Subject</c> = the CloudEvent type, and
/// the application properties subscriptions filter on.
/// </summary>
public static class AlertMessages
{
    public const string Topic = "executive-alerts";
    public const string ContentType = "application/cloudevents+json";

    /// <summary>The application properties copied from the CloudEvent's <c>data</c>.</summary>
    public static readonly IReadOnlyList<string> FilterProperties = ["severity", "kind", "indicator", "scope", "period"];

    public static ServiceBusMessage ToServiceBusMessage(string cloudEvent)
    {
        using var doc = JsonDocument.Parse(cloudEvent);
        var root = doc.RootElement;
        var message = new ServiceBusMessage(BinaryData.FromString(cloudEvent))
        {
            MessageId = Text(root, "id") ?? throw new FormatException("The CloudEvent has no id; every alert needs its deterministic id."),
            ContentType = ContentType,
            Subject = Text(root, "type"),
        };
        if (root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object)
        {
            foreach (var name in FilterProperties)
            {
                if (Text(data, name) is { } value) message.ApplicationProperties[name] = value;
            }
        }
        return message;
    }

    /// <summary>The CloudEvent id of a message, if it is a structured CloudEvent.</summary>
    public static string? IdOf(string message)
    {
        try
        {
            using var doc = JsonDocument.Parse(message);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("specversion", out _) ? Text(doc.RootElement, "id") : null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException) // not JSON, or a member name that is not text
        {
            return null;
        }
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? Domain.Validation.JsonFields.Text(value) : null;
}
