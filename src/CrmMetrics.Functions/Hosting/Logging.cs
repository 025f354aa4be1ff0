using Microsoft.Extensions.Logging.Console;

namespace CrmMetrics.Functions.Hosting;

/// <summary>
/// Logs go to the Functions host over the worker's channel (Application Insights and the log stream
/// in Azure, the console of the local host); what the product does at Information, framework chatter
/// at Warning. The worker's own console logger would print everything a second time.
/// </summary>
public static class Logging
{
    public static ILoggingBuilder AddCrmMetricsLogging(this ILoggingBuilder logging)
    {
        logging.AddFilter<ConsoleLoggerProvider>(_ => false);
        logging.SetMinimumLevel(LogLevel.Information);
        logging.AddFilter("Microsoft", LogLevel.Warning);
        logging.AddFilter("System.Net.Http", LogLevel.Warning);
        logging.AddFilter("Azure", LogLevel.Warning);
        // The SDK logs every 404 of an "if exists" read as a warning.
        logging.AddFilter("Azure.Core", LogLevel.Error);
        // No cookies or tokens are protected here: the key ring warning says nothing useful.
        logging.AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error);
        return logging;
    }
}
