using System.CommandLine;
using System.Text.Json;
using Yingyun.Dicom;

namespace Yingyun.Server.Cli;

internal static class DumpCommand
{
    /// <summary>Binary values longer than this are shown as placeholders in --json output.</summary>
    private const int InlineBinaryLimit = 1024;

    public static Command Create()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "a DICOM file (Part 10, or a bare data set)" };
        var json = new Option<bool>("--json")
        {
            Description =
                "Print the data set (not the File Meta Information) as DICOM JSON (PS3.18 Annex F), indented. " +
                $"Values of OB, OD, OF, OL, OV, OW, UN and encapsulated Pixel Data over {InlineBinaryLimit} bytes are not printed: " +
                $"their \"BulkDataURI\" is a placeholder \"{DicomJsonBulkDataUri.PlaceholderScheme}:<path>\", where <path> is the " +
                "attribute's tag as 8 hex digits, preceded for an attribute inside a sequence by each enclosing sequence's tag " +
                "and item index (from 0), all joined by '/' (e.g. bulkdata:7FE00010, bulkdata:00540016/0/00181074); it names the " +
                "value and retrieves nothing. Smaller values are printed as \"InlineBinary\" (base64). Read problems go to standard error.",
        };
        var cmd = new Command("dump", "Print a DICOM file's elements like dcmdump (or as DICOM JSON with --json)") { file, json };
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
            if (parse.GetValue(json))
            {
                await WriteJsonAsync(df, ct).ConfigureAwait(false);
            }
            else
            {
                var stdout = new StreamWriter(Console.OpenStandardOutput(), new System.Text.UTF8Encoding(false)) { AutoFlush = false };
                await using (stdout.ConfigureAwait(false))
                    DicomDump.Write(stdout, df);
            }
            return df.Problems.Any(p => p.IsFatal) ? 1 : 0;
        });
        return cmd;
    }

    private static async Task WriteJsonAsync(DicomFile df, CancellationToken ct)
    {
        // Large values stay on disk as the reader left them: the placeholder provider decides on their length alone.
        var options = new DicomJsonWriterOptions { BulkDataUriProvider = DicomJsonBulkDataUri.PlaceholderProvider(InlineBinaryLimit) };
        var stdout = Console.OpenStandardOutput();
        await using (stdout.ConfigureAwait(false))
        {
            var w = new Utf8JsonWriter(stdout, DicomJsonWriter.CreateJsonWriterOptions(indented: true));
            await using (w.ConfigureAwait(false))
            {
                await DicomJsonWriter.WriteAsync(w, df.Dataset, options, ct).ConfigureAwait(false);
                await w.FlushAsync(ct).ConfigureAwait(false);
            }
            await stdout.WriteAsync("\n"u8.ToArray(), ct).ConfigureAwait(false);
        }
        // Standard output stays pure JSON; what the reader worked around is said on standard error.
        foreach (var p in df.Problems)
            await Console.Error.WriteLineAsync($"yingyun dump: {df.Source}: {(p.IsFatal ? "error" : "warning")}: {p}").ConfigureAwait(false);
    }
}
