namespace CrmMetrics.Functions.Hosting;

/// <summary>Readable one-line logs: what the product does at Information, framework chatter at Warning.</summary>
public static class Logging
{
    public static ILoggingBuilder AddCrmMetricsLogging(this ILoggingBuilder logging)
    {
        logging.ClearProviders();
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
            o.IncludeScopes = false;
        });
        logging.SetMinimumLevel(LogLevel.Information);
        logging.AddFilter("Microsoft", LogLevel.Warning);
        logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
        logging.AddFilter("System.Net.Http", LogLevel.Warning);
        logging.AddFilter("Azure", LogLevel.Warning);
        return logging;
    }
}
