namespace CrmMetrics.Functions.Hosting;

/// <summary>
/// Says at start what the operator configured and would otherwise have to guess from answers: the
/// API keys by name and role (never their hashes), or that there are none and every protected route
/// will answer 401; the reporting calendar, time zone and currency.
/// </summary>
public sealed class SettingsReport(CrmMetricsSettings settings, ILogger<SettingsReport> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (settings.Keys.Count == 0)
            logger.LogWarning("No API keys are configured (CrmMetrics:Keys:<name> = '<role>:<sha256 hex>'): every API route but /api/health and the OpenAPI document answers 401");
        else
            logger.LogInformation("API keys: {Keys}", string.Join(", ", settings.Keys.OrderBy(k => k.Name, StringComparer.Ordinal).Select(k => $"{k.Name} ({k.Role.ToString().ToLowerInvariant()})")));
        logger.LogInformation("Reporting calendar {Calendar} in time zone {TimeZone}, currency {Currency}, deployment {Deployment}",
            settings.Calendar.Calendar.Setting, settings.Calendar.TimeZone.Id, settings.ReportingCurrency, settings.DeploymentName);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
