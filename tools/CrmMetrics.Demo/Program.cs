using CrmMetrics.Demo;

return await DemoCommand.RunAsync(args);
