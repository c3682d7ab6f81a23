using SaltApi.Host.Hosting;

return await SaltApiDaemon.RunAsync(args);
