using CrmMetrics.Functions.Hosting;

try
{
    await using var built = await CrmMetricsApp.BuildAsync(args);
    await built.App.RunAsync();
    return 0;
}
catch (SettingsException e)
{
    // A bad setting is the operator's to fix: say which, without a stack trace.
    Console.Error.WriteLine("CrmMetrics cannot start because of its settings:");
    foreach (var (field, messages) in e.Errors.ToDictionary()) Console.Error.WriteLine($"  {field}: {string.Join("; ", messages)}");
    return 2;
}
