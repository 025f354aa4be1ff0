using CrmMetrics.LocalHost;

return await HostCommand.RunAsync(args);
