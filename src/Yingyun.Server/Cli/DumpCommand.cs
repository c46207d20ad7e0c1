using System.CommandLine;
using Yingyun.Dicom;

namespace Yingyun.Server.Cli;

internal static class DumpCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "a DICOM file (Part 10, or a bare data set)" };
        var cmd = new Command("dump", "Print a DICOM file's elements like dcmdump (or as DICOM JSON with --json)") { file };
        cmd.SetAction(async (parse, ct) =>
        {
            var path = parse.GetValue(file)!.FullName;
            DicomFile df;
            try
            {
                df = await DicomReader.OpenAsync(path, cancellationToken: ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is DicomReadException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"yingyun dump: {path}: {ex.Message}");
                return 1;
            }
            var stdout = new StreamWriter(Console.OpenStandardOutput(), new System.Text.UTF8Encoding(false)) { AutoFlush = false };
            await using (stdout.ConfigureAwait(false))
                DicomDump.Write(stdout, df);
            return df.Problems.Any(p => p.IsFatal) ? 1 : 0;
        });
        return cmd;
    }
}
