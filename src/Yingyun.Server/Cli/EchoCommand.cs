using System.CommandLine;
using System.Diagnostics;
using Yingyun.Dicom;
using Yingyun.Dimse;

namespace Yingyun.Server.Cli;

/// <summary>`yingyun echo`: C-ECHO (PS3.7 §9.1.5), like DCMTK's echoscu.</summary>
internal static class EchoCommand
{
    public static Command Create()
    {
        var peer = new PeerOptions();
        var cmd = new Command("echo", "Verify a DICOM peer with C-ECHO (like echoscu)");
        peer.AddTo(cmd);
        cmd.SetAction(async (parse, ct) =>
        {
            var sw = Stopwatch.StartNew();
            try
            {
                var association = await DicomClient.ConnectAsync(peer.ToClientOptions(parse), [DicomUids.Verification], ct).ConfigureAwait(false);
                await using (association.ConfigureAwait(false))
                {
                    var status = await association.EchoAsync(ct).ConfigureAwait(false);
                    await association.ReleaseAsync(ct).ConfigureAwait(false);
                    Console.WriteLine($"C-ECHO {peer.Describe(parse)}: {status} in {sw.Elapsed.TotalMilliseconds:F0} ms");
                    return status.IsSuccessOrWarning ? 0 : 1;
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Console.Error.WriteLine($"yingyun echo: {peer.Describe(parse)}: {ex.Message}");
                return 1;
            }
        });
        return cmd;
    }
}
