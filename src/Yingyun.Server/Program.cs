using System.CommandLine;
using Yingyun.Server.Cli;

var root = new RootCommand("Yingyun (影云): a regional DICOM archive — ingest, store, serve and watch the quality of medical images.");
root.Subcommands.Add(DumpCommand.Create());
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
