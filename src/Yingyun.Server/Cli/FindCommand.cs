using System.CommandLine;
using Yingyun.Dicom;
using Yingyun.Dimse;

namespace Yingyun.Server.Cli;

/// <summary>`yingyun find`: C-FIND (PS3.4 §C.4.1) like DCMTK's findscu; prints each match as dcmdump does, or as a
/// DICOM JSON array with --json.</summary>
internal static class FindCommand
{
    public static Command Create()
    {
        var peer = new PeerOptions();
        var keys = new QueryKeys();
        var json = new Option<bool>("--json") { Description = "print the matches as a DICOM JSON array (PS3.18 Annex F)" };
        var cmd = new Command("find", "Query a peer with C-FIND (like findscu)") { json };
        peer.AddTo(cmd);
        keys.AddTo(cmd);
        cmd.SetAction(async (parse, ct) =>
        {
            try
            {
                var identifier = keys.Build(parse);
                string model = keys.Model(parse, DicomUids.StudyRootQueryRetrieveInformationModelFind, DicomUids.PatientRootQueryRetrieveInformationModelFind);
                var association = await DicomClient.ConnectAsync(peer.ToClientOptions(parse), [model], ct).ConfigureAwait(false);
                await using (association.ConfigureAwait(false))
                {
                    var (status, matches) = await association.FindAllAsync(model, identifier, ct).ConfigureAwait(false);
                    await association.ReleaseAsync(ct).ConfigureAwait(false);
                    if (parse.GetValue(json))
                    {
                        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
                        using (var writer = new System.Text.Json.Utf8JsonWriter(buffer, new System.Text.Json.JsonWriterOptions { Indented = true }))
                        {
                            writer.WriteStartArray();
                            foreach (var m in matches) DicomJsonWriter.Write(writer, m);
                            writer.WriteEndArray();
                        }
                        Console.Out.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
                    }
                    else
                    {
                        int n = 0;
                        foreach (var m in matches)
                        {
                            Console.WriteLine($"# match {++n}");
                            DicomDump.WriteDataset(Console.Out, m, 0);
                        }
                    }
                    Console.Error.WriteLine($"C-FIND {peer.Describe(parse)}: {matches.Count} matches, final status {status}");
                    return status.IsSuccessOrWarning ? 0 : 1;
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Console.Error.WriteLine($"yingyun find: {peer.Describe(parse)}: {ex.Message}");
                return 1;
            }
        });
        return cmd;
    }
}
