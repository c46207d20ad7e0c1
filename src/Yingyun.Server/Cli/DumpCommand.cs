using System.CommandLine;

namespace Yingyun.Server.Cli;

internal static class DumpCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "a DICOM file (Part 10, or a bare data set)" };
        var cmd = new Command("dump", "Print a DICOM file's elements like dcmdump (or as DICOM JSON with --json)") { file };
        cmd.SetAction(async (parse, ct) =>
        {
            await Task.CompletedTask.ConfigureAwait(false);
            Console.Error.WriteLine($"yingyun dump: not implemented yet for {parse.GetValue(file)}");
            return 2;
        });
        return cmd;
    }
}
