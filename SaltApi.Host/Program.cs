using SaltApi.Host.Daemon;

return await SaltApiDaemon.RunAsync(args);
