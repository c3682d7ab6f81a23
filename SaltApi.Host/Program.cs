await Console.Error.WriteLineAsync("salt-api: not implemented yet");
return 1;
