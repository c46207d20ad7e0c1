return await Yingyun.Server.Cli.YingyunCli.RunAsync(args).ConfigureAwait(false);
