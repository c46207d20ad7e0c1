using System.CommandLine;

namespace Yingyun.Server.Cli;

/// <summary>The `yingyun` command line; public so that tests run it in-process.</summary>
public static class YingyunCli
{
    public static RootCommand Build()
    {
        var root = new RootCommand("Yingyun (影云): a regional DICOM archive — ingest, store, serve and watch the quality of medical images.");
        root.Subcommands.Add(DumpCommand.Create());
        root.Subcommands.Add(EchoCommand.Create());
        root.Subcommands.Add(SendCommand.Create());
        root.Subcommands.Add(FindCommand.Create());
        root.Subcommands.Add(MoveCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(ReplayCommand.Create());
        root.Subcommands.Add(StoreScpCommand.Create());
        return root;
    }

    public static Task<int> RunAsync(string[] args, CancellationToken cancellationToken = default)
    {
        var parse = Build().Parse(args);
        var invocation = new InvocationConfiguration();
        // `serve` stops through the host's console lifetime (SIGTERM, Ctrl-C), which drains associations and lets the
        // consumers commit: System.CommandLine's own handler would end the process after 2 seconds.
        if (parse.CommandResult.Command.Name == ServeCommand.Name) invocation.ProcessTerminationTimeout = null;
        return parse.InvokeAsync(invocation, cancellationToken);
    }
}
